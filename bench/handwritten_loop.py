"""The baseline of train_overhead.py: digits, an MLP and Adam in plain PyTorch.

What a user writes without hpsweep: the same data split, model, optimizer, batch size
and epochs as `python train.py`, with validation after every epoch. Prints the
seconds from loading the data to the final metric, as JSON.
"""

import json
import sys
import time

import numpy as np
import torch
from torch import nn

# The same reader as train.py's (scikit-learn's bundled file, without importing
# scikit-learn's 1.7 s of modules), imported before the clock starts as train.py's is:
# its import took 0.17 s here, 2-3% of a 300-epoch run, that train.py's seconds never hold.
from hpsweep.training.data import digits_arrays


def main(epochs: int) -> None:
    started = time.perf_counter()
    torch.manual_seed(0)
    images, y = digits_arrays()
    x = images.astype(np.float32)[:, None]
    order = np.random.default_rng(0).permutation(len(x))
    n_val = n_test = round(0.2 * len(x))
    train, val = order[: len(x) - n_val - n_test], order[len(x) - n_val - n_test : -n_test]
    mean, std = x[train].mean(0), x[train].std(0)
    std[std < 1e-6] = 1.0
    x = torch.as_tensor((x - mean) / std)
    y = torch.as_tensor(y, dtype=torch.long)
    x_train, y_train, x_val, y_val = x[train], y[train], x[val], y[val]

    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Linear(128, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(x_train), 64):
            index = perm[start : start + 64]
            loss = loss_fn(model(x_train[index]), y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(x_val), y_val).item()
    print(json.dumps({"val/loss": val_loss, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
