"""The datasets of the `data` config group, loaded whole into tensors.

The data sets here are small, so a run keeps them in memory as tensors and slices
batches itself: no DataLoader, no worker processes, no per-sample Python.
Every loader splits train/validation/test with a seeded permutation (`split_seed`,
independent of the training seed, so sweeping `trainer.seed` keeps the split) and
standardizes features with the training split's statistics.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch

Task = Literal["classification", "regression"]

# A numeric target is taken for class labels when it holds integers with at most this
# many distinct values; `data.task` overrides the guess.
MAX_AUTO_CLASSES = 50


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

    def to(self, device: torch.device | str) -> Splits:
        tensors = {
            name: getattr(self, name).to(device)
            for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
        }
        return replace(self, **tensors)


def load_digits(
    val_fraction: float = 0.2, test_fraction: float = 0.2, split_seed: int = 0
) -> Splits:
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes): no download."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    images = digits.images.astype(np.float32)[:, None, :, :]  # (N, 1, 8, 8)
    return split_arrays(
        images, digits.target, "classification", val_fraction, test_fraction, split_seed
    )


def make_synthetic(
    n_samples: int = 600,
    n_classes: int = 4,
    image_size: int = 8,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    split_seed: int = 0,
) -> Splits:
    """Noisy class prototypes shaped like 1 x size x size images: fast and learnable."""
    rng = np.random.default_rng(split_seed)
    prototypes = rng.normal(size=(n_classes, 1, image_size, image_size))
    labels = rng.integers(0, n_classes, size=n_samples)
    noise = rng.normal(scale=3.0, size=(n_samples, 1, image_size, image_size))
    images = (prototypes[labels] + noise).astype(np.float32)
    return split_arrays(
        images, labels, "classification", val_fraction, test_fraction, split_seed, n_classes
    )


def load_csv(
    path: str,
    target: str,
    task: str = "auto",
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    split_seed: int = 0,
) -> Splits:
    """A CSV table with a header row: `target` is predicted from every other column."""
    columns = read_csv_columns(Path(path))
    if target not in columns:
        raise ValueError(
            f"column '{target}' not found in {path}; its columns are: {', '.join(columns)}"
        )
    features = {name: values for name, values in columns.items() if name != target}
    if not features:
        raise ValueError(f"{path} has no feature column besides the target '{target}'")
    not_numeric = [name for name, values in features.items() if not _all_numeric(values)]
    if not_numeric:
        raise ValueError(
            f"feature columns must be numeric; not numeric in {path}: {', '.join(not_numeric)}"
        )
    x = np.array([[float(v) for v in values] for values in features.values()], np.float32).T
    return _split_with_task(
        np.array(columns[target]), x, task, val_fraction, test_fraction, split_seed
    )


def load_npz(
    path: str,
    task: str = "auto",
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    split_seed: int = 0,
) -> Splits:
    """A NumPy .npz file with arrays `x` (samples first) and `y`."""
    with np.load(path) as arrays:
        missing = {"x", "y"} - set(arrays.files)
        if missing:
            raise ValueError(
                f"{path} lacks array(s) {', '.join(sorted(missing))}; it has: "
                f"{', '.join(arrays.files)}"
            )
        x, y = arrays["x"].astype(np.float32), arrays["y"]
    if len(x) != len(y):
        raise ValueError(f"{path}: x has {len(x)} samples but y has {len(y)}")
    return _split_with_task(y, x, task, val_fraction, test_fraction, split_seed)


def read_csv_columns(path: Path) -> dict[str, list[str]]:
    """The columns of a CSV file with a header row, as lists of their raw strings."""
    with path.open(newline="") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if not header:
            raise ValueError(f"{path} is empty; expected a header row")
        rows = [row for row in reader if row]
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}, line {line}: {len(row)} fields, header has {len(header)}")
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}


def infer_task(y: np.ndarray) -> Task:
    """Class labels when the targets are strings or few distinct integers, else regression."""
    if not _all_numeric(y):
        return "classification"
    values = y.astype(np.float64)
    is_integral = bool(np.all(values == np.round(values)))
    return (
        "classification"
        if is_integral and len(np.unique(values)) <= MAX_AUTO_CLASSES
        else "regression"
    )


def split_arrays(
    x: np.ndarray,
    y: np.ndarray,
    task: Task,
    val_fraction: float,
    test_fraction: float,
    split_seed: int,
    num_classes: int | None = None,
) -> Splits:
    """Shuffle with `split_seed`, cut into train/val/test, standardize by train statistics."""
    n = len(x)
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    n_train = n - n_val - n_test
    if n_train < 1 or n_val < 1:
        raise ValueError(
            f"{n} samples leave {n_train} for training and {n_val} for validation; "
            "both need at least one (check data.val_fraction and data.test_fraction)"
        )
    order = np.random.default_rng(split_seed).permutation(n)
    train, val, test = np.split(order, [n_train, n_train + n_val])

    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std[std < 1e-6] = 1.0  # constant features (digits' blank corner pixels) stay at 0
    x = (x - mean) / std

    if task == "classification":
        y_tensor = torch.as_tensor(y, dtype=torch.long)
        num_outputs = num_classes or int(y.max()) + 1
    else:
        y_tensor = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
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
    )


def _split_with_task(
    y: np.ndarray, x: np.ndarray, task: str, val_fraction: float, test_fraction: float, seed: int
) -> Splits:
    resolved: Task = infer_task(y) if task == "auto" else task  # type: ignore[assignment]
    if resolved == "classification":
        # Labels of any kind (strings, 3/7/9) become class indices 0..k-1.
        _, labels = np.unique(y, return_inverse=True)
        return split_arrays(x, labels, resolved, val_fraction, test_fraction, seed)
    if not _all_numeric(y):
        raise ValueError("data.task=regression needs a numeric target")
    return split_arrays(x, y.astype(np.float32), resolved, val_fraction, test_fraction, seed)


def _all_numeric(values: list[str] | np.ndarray) -> bool:
    try:
        np.asarray(values, dtype=np.float64)
    except ValueError:
        return False
    return True
