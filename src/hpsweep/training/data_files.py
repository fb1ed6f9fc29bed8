"""Users' data files (CSV tables, .npz arrays) read and checked with NumPy alone.

The up-front checks (hpsweep.training.validation, before Hydra creates a folder) and
the loaders (hpsweep.training.data) read files through this module, so a file that
passes the checks loads, and a bad one is blamed in one line that names the column (or
array) and the first bad row:

    my.csv: column 'f2', row 7 (line 8): an empty cell (a missing value); features must be numbers

No torch here: train.py checks bad input before it pays for importing torch.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Literal

import numpy as np

Task = Literal["classification", "regression"]
TASKS = ("auto", "classification", "regression")

# A numeric target is taken for class labels when it holds integers with at most this
# many distinct values; `data.task` overrides the guess.
MAX_AUTO_CLASSES = 50


class DataError(ValueError):
    """A data file that cannot be trained on: the message is one line for the user."""


def read_csv_columns(path: Path) -> dict[str, list[str]]:
    """The columns of a CSV file with a header row, as lists of their raw strings."""
    try:
        with path.open(newline="") as file:
            reader = csv.reader(file)
            header = next(reader, None)
            if not header:
                raise DataError(f"{path} is empty; expected a header row")
            rows = [row for row in reader if row]
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"cannot read {path} as CSV: {error}") from error
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise DataError(f"{path}, line {line}: {len(row)} fields, header has {len(header)}")
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}


def read_csv(path: Path, target: str) -> tuple[np.ndarray, np.ndarray]:
    """(features as float32 of shape (rows, columns), the target column's raw strings).

    Every column but `target` is a feature and must hold a finite number in every row.
    """
    columns = read_csv_columns(path)
    if target not in columns:
        raise DataError(
            f"data.target: column '{target}' not found in {path}; "
            f"its columns are: {', '.join(columns)}"
        )
    if not columns[target]:
        raise DataError(f"{path} has a header and no rows: nothing to train on")
    features = {name: values for name, values in columns.items() if name != target}
    if not features:
        raise DataError(f"{path} has no feature column besides the target '{target}'")
    for name, values in features.items():
        _check_numbers(path, name, values)
    for row, text in enumerate(columns[target], start=1):
        if not text.strip():
            raise DataError(
                f"{path}: column '{target}' (the target), row {row} (line {row + 1}): "
                "an empty cell (a missing value)"
            )
    x = np.array([values for values in features.values()], dtype=np.float64).T
    return x.astype(np.float32), np.array(columns[target])


def read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(x as float32, y) from a NumPy .npz file: samples first, numeric and finite x."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            missing = {"x", "y"} - set(arrays.files)
            if missing:
                raise DataError(
                    f"{path} must hold arrays 'x' and 'y'; it has: {', '.join(arrays.files)}"
                )
            x, y = arrays["x"], arrays["y"]
    except (OSError, ValueError, EOFError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"cannot read {path} as .npz: {' '.join(str(error).split())}") from error
    if x.ndim < 2 or y.ndim != 1:
        raise DataError(
            f"{path}: x must be shaped (samples, features...) and y (samples,); "
            f"they are {x.shape} and {y.shape}"
        )
    if len(x) != len(y):
        raise DataError(f"{path}: x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise DataError(f"{path} holds no samples: nothing to train on")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise DataError(f"{path}: x must hold real numbers; its dtype is {x.dtype}")
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        first = tuple(int(i) for i in bad[0])
        raise DataError(
            f"{path}: x[{', '.join(map(str, first))}] is {x[first]}: sample {first[0]} "
            "holds a missing or non-finite value"
        )
    if np.issubdtype(y.dtype, np.floating):
        bad = np.flatnonzero(~np.isfinite(y))
        if len(bad):
            raise DataError(f"{path}: y[{bad[0]}] is {y[bad[0]]}: a missing or non-finite target")
    return x.astype(np.float32), y


def resolve_task(y: np.ndarray, task: str) -> Task:
    """`data.task` for these targets: `auto` guesses (infer_task); an explicit task
    must fit them (class labels are text or integers; regression targets numbers)."""
    if task == "auto":
        return infer_task(y)
    if task == "regression":
        row = _first_not_finite_number(y)
        if row is not None:
            raise DataError(
                f"data.task=regression needs a numeric target; row {row + 1} holds '{y[row]}'"
            )
        return "regression"
    if all_numeric(y):
        values = y.astype(np.float64)
        fractional = np.flatnonzero(values != np.round(values))
        if len(fractional):
            row = int(fractional[0])
            raise DataError(
                f"data.task=classification needs class labels (text or integers); the target "
                f"holds fractions such as '{y[row]}' (row {row + 1}): use data.task=regression"
            )
    return "classification"


def infer_task(y: np.ndarray) -> Task:
    """Class labels when the targets are strings or few distinct integers, else regression."""
    if not all_numeric(y):
        return "classification"
    values = y.astype(np.float64)
    is_integral = bool(np.all(values == np.round(values)))
    return (
        "classification"
        if is_integral and len(np.unique(values)) <= MAX_AUTO_CLASSES
        else "regression"
    )


def split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """(train, validation, test) sample counts of `n` samples; training and validation
    need at least one each."""
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    n_train = n - n_val - n_test
    if n_train < 1 or n_val < 1:
        raise DataError(
            f"{n} samples leave {n_train} for training and {n_val} for validation; "
            "both need at least one (check data.val_fraction and data.test_fraction)"
        )
    return n_train, n_val, n_test


def all_numeric(values: list[str] | np.ndarray) -> bool:
    try:
        np.asarray(values, dtype=np.float64)
    except ValueError:
        return False
    return True


def _check_numbers(path: Path, column: str, values: list[str]) -> None:
    """Every cell of a feature column a finite number; else name the first bad row."""
    try:
        if np.all(np.isfinite(np.asarray(values, dtype=np.float64))):
            return
    except ValueError:
        pass  # some cell is not a number: find the first below
    for row, text in enumerate(values, start=1):
        problem = _cell_problem(text)
        if problem:
            raise DataError(
                f"{path}: column '{column}', row {row} (line {row + 1}): {problem}; "
                "features must be numbers"
            )


def _cell_problem(text: str) -> str | None:
    if not text.strip():
        return "an empty cell (a missing value)"
    try:
        value = float(text)
    except ValueError:
        return f"{text!r} is not a number"
    return None if math.isfinite(value) else f"{text!r} is not a finite number"


def _first_not_finite_number(y: np.ndarray) -> int | None:
    for row, value in enumerate(y):
        try:
            if math.isfinite(float(value)):
                continue
        except ValueError:
            pass
        return row
    return None
