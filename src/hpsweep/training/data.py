"""The datasets of the `data` config group, loaded whole into tensors.

The data sets here are small, so a run keeps them in memory as tensors and slices
batches itself: no DataLoader, no worker processes, no per-sample Python.
Every loader splits train/validation/test with a seeded permutation (`split_seed`,
independent of the training seed, so sweeping `trainer.seed` keeps the split) and
standardizes features, and a regression target, with the training split's statistics.
Files are read and checked by hpsweep.training.data_files.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from hpsweep.training.data_files import (
    Task,
    infer_task,
    read_csv,
    read_npz,
    resolve_task,
    split_sizes,
)

__all__ = [
    "Splits",
    "infer_task",
    "load_csv",
    "load_digits",
    "load_npz",
    "make_synthetic",
    "split_arrays",
]


@dataclass(frozen=True)
class Splits:
    """Train, validation and test tensors, and what a model needs to know of them."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    task: Task
    num_outputs: int  # classes, or 1 for regression
    input_shape: tuple[int, ...]  # of one sample: (C, H, W) for images, (F,) for tables
    # Regression: the model learns targets standardized by the training split,
    # (y - y_mean) / y_std; a loss times y_std**2 is the MSE in the target's own units.
    y_mean: float = 0.0
    y_std: float = 1.0

    def to(self, device: torch.device | str) -> Splits:
        tensors = {
            name: getattr(self, name).to(device)
            for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
        }
        return replace(self, **tensors)


def load_digits(
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    val_seed: int | None = None,
) -> Splits:
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes): no download."""
    images, target = digits_arrays()
    images = images.astype(np.float32)[:, None, :, :]  # (N, 1, 8, 8)
    return split_arrays(
        images, target, "classification", val_fraction, test_fraction, split_seed, val_seed=val_seed
    )


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 8, 8), labels) from the file scikit-learn ships, read the way its
    `load_digits` reads it, without importing scikit-learn: `import sklearn.datasets`
    pulls in SciPy and took 1.7 s, a third of a short run's start, to read a 60 kB file.
    tests/test_data.py checks the arrays equal `sklearn.datasets.load_digits`'."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    locations = (spec.submodule_search_locations or []) if spec else []
    path = Path(*locations[:1], "datasets", "data", "digits.csv.gz")
    if not locations or not path.is_file():  # another layout: let scikit-learn read it
        from sklearn.datasets import load_digits as sklearn_digits

        digits = sklearn_digits()
        return digits.images, digits.target
    with gzip.open(path, "rt", encoding="utf-8") as file:
        data = np.loadtxt(file, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)


def make_synthetic(
    n_samples: int = 600,
    n_classes: int = 4,
    image_size: int = 8,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    val_seed: int | None = None,
) -> Splits:
    """Noisy class prototypes shaped like 1 x size x size images: fast and learnable."""
    rng = np.random.default_rng(split_seed)
    prototypes = rng.normal(size=(n_classes, 1, image_size, image_size))
    labels = rng.integers(0, n_classes, size=n_samples)
    noise = rng.normal(scale=3.0, size=(n_samples, 1, image_size, image_size))
    images = (prototypes[labels] + noise).astype(np.float32)
    return split_arrays(
        images,
        labels,
        "classification",
        val_fraction,
        test_fraction,
        split_seed,
        n_classes,
        val_seed,
    )


def load_csv(
    path: str,
    target: str,
    task: str = "auto",
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    val_seed: int | None = None,
) -> Splits:
    """A CSV table with a header row: `target` is predicted from every other column."""
    x, y = read_csv(Path(path), target)
    return _split_with_task(y, x, task, val_fraction, test_fraction, split_seed, val_seed)


def load_npz(
    path: str,
    task: str = "auto",
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    val_seed: int | None = None,
) -> Splits:
    """A NumPy .npz file with arrays `x` (samples first) and `y`."""
    x, y = read_npz(Path(path))
    return _split_with_task(y, x, task, val_fraction, test_fraction, split_seed, val_seed)


def split_arrays(
    x: np.ndarray,
    y: np.ndarray,
    task: Task,
    val_fraction: float,
    test_fraction: float,
    split_seed: int,
    num_classes: int | None = None,
    val_seed: int | None = None,
) -> Splits:
    """Shuffle with `split_seed`, cut into train/val/test, standardize features (and a
    regression target) by the training split's statistics.

    `val_seed` (None: the split is `split_seed`'s alone) reshuffles which of the
    non-test samples validate: the test split stays `split_seed`'s, so runs with other
    val_seeds (say `data.val_seed=${trainer.seed}`, and repeats over seeds) average the
    objective over several validation splits and still score on one test split."""
    n_train, n_val, _ = split_sizes(len(x), val_fraction, test_fraction)
    order = np.random.default_rng(split_seed).permutation(len(x))
    if val_seed is not None:
        pool = order[: n_train + n_val]
        order[: n_train + n_val] = np.random.default_rng(val_seed).permutation(pool)
    train, val, test = np.split(order, [n_train, n_train + n_val])

    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std[std < 1e-6] = 1.0  # constant features (digits' blank corner pixels) stay at 0
    x = (x - mean) / std

    y_mean, y_std = 0.0, 1.0
    if task == "classification":
        y_tensor = torch.as_tensor(y, dtype=torch.long)
        num_outputs = num_classes or int(y.max()) + 1
    else:
        # Standardized like the features, with the training split's statistics only:
        # a target in the tens of thousands would otherwise need its own learning rate.
        y_mean = float(y[train].astype(np.float64).mean())
        y_std = float(y[train].astype(np.float64).std()) or 1.0
        y_tensor = torch.as_tensor((y - y_mean) / y_std, dtype=torch.float32).reshape(-1, 1)
        num_outputs = 1
    x_tensor = torch.as_tensor(x, dtype=torch.float32)
    return Splits(
        x_train=x_tensor[train],
        y_train=y_tensor[train],
        x_val=x_tensor[val],
        y_val=y_tensor[val],
        x_test=x_tensor[test],
        y_test=y_tensor[test],
        task=task,
        num_outputs=num_outputs,
        input_shape=tuple(x.shape[1:]),
        y_mean=y_mean,
        y_std=y_std,
    )


def _split_with_task(
    y: np.ndarray,
    x: np.ndarray,
    task: str,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    val_seed: int | None,
) -> Splits:
    resolved = resolve_task(y, task)
    if resolved == "classification":
        # Labels of any kind (strings, 3/7/9) become class indices 0..k-1.
        _, labels = np.unique(y, return_inverse=True)
        return split_arrays(
            x, labels, resolved, val_fraction, test_fraction, seed, val_seed=val_seed
        )
    return split_arrays(
        x, y.astype(np.float32), resolved, val_fraction, test_fraction, seed, val_seed=val_seed
    )
