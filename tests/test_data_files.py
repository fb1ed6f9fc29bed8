"""Users' data files: what is read, and every bad file blamed in one line that names
the column (or array) and the first bad row."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from hpsweep.training.data_files import DataError, read_csv, read_npz, resolve_task, split_sizes

GOOD_CSV = "f1,f2,label\n1,2,a\n3,4,b\n"

BAD_CSV = [
    # (file contents, target, fragment of the message)
    ("", "label", "is empty; expected a header row"),
    ("f1,f2,label\n", "label", "has a header and no rows"),
    ("f1,f2,label\n1,2,a\n3,4,b\n", "species", "column 'species' not found in"),
    ("label\na\nb\n", "label", "no feature column besides the target 'label'"),
    ("f1,f2,label\n1,2,a\n3,4\n", "label", "line 3: 2 fields, header has 3"),
    ("f1,f2,label\n1,2,a\n3,x,b\n", "label", "column 'f2', row 2 (line 3): 'x' is not a number"),
    ("f1,f2,label\n1,2,a\n,4,b\n", "label", "column 'f1', row 2 (line 3): an empty cell"),
    ("f1,f2,label\n1,nan,a\n3,4,b\n", "label", "column 'f2', row 1 (line 2): 'nan' is not a fin"),
    ("f1,f2,label\n1,2,a\n3,-inf,b\n", "label", "column 'f2', row 2 (line 3): '-inf' is not"),
    ("f1,f2,label\n1,2,a\n3,4, \n", "label", "column 'label' (the target), row 2 (line 3): an e"),
]


@pytest.mark.parametrize(("contents", "target", "message"), BAD_CSV, ids=lambda v: repr(v)[:30])
def test_bad_csv_is_blamed_in_one_line(
    contents: str, target: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "my.csv"
    path.write_text(contents)
    with pytest.raises(DataError) as error:
        read_csv(path, target)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_csv_reads_features_and_raw_targets(tmp_path: Path) -> None:
    path = tmp_path / "my.csv"
    path.write_text(GOOD_CSV)
    x, y = read_csv(path, "label")
    assert x.dtype == np.float32
    assert x.tolist() == [[1, 2], [3, 4]]
    assert y.tolist() == ["a", "b"]


BAD_NPZ = [
    # (arrays, fragment of the message)
    ({"features": np.zeros((3, 2)), "y": np.zeros(3)}, "must hold arrays 'x' and 'y'"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, "x has 3 samples but y has 4"),
    ({"x": np.zeros(3), "y": np.zeros(3)}, "x must be shaped (samples, features...)"),
    ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, "holds no samples"),
    ({"x": np.array([["a", "b"], ["c", "d"]]), "y": np.zeros(2)}, "x must hold real numbers"),
    ({"x": np.array([[1.0, 2.0], [3.0, np.nan]]), "y": np.zeros(2)}, "x[1, 1] is nan: sample 1"),
    ({"x": np.ones((2, 2)), "y": np.array([1.0, np.inf])}, "y[1] is inf"),
]


@pytest.mark.parametrize(("arrays", "message"), BAD_NPZ, ids=lambda v: str(v)[:30])
def test_bad_npz_is_blamed_in_one_line(
    arrays: dict[str, np.ndarray], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as error:
        read_npz(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_file_that_is_not_npz(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(DataError, match=r"cannot read .*arrays.npz as .npz"):
        read_npz(path)


TASKS = [
    # (targets, data.task, the task or a fragment of the error)
    (["a", "b"], "auto", "classification"),
    (["1", "2", "1"], "classification", "classification"),
    (["1.0", "2.0"], "classification", "classification"),  # integral numbers are labels
    (["1.5", "2.25"], "auto", "regression"),
    (["1.5", "2.25"], "classification", "holds fractions such as '1.5' (row 1)"),
    (["1.5", "cat"], "regression", "needs a numeric target; row 2 holds 'cat'"),
]


@pytest.mark.parametrize(("targets", "task", "expected"), TASKS, ids=lambda v: str(v))
def test_task_fits_the_targets(targets: list[str], task: str, expected: str) -> None:
    y = np.array(targets)
    if expected in ("classification", "regression"):
        assert resolve_task(y, task) == expected
    else:
        with pytest.raises(DataError, match=re.escape(expected)):
            resolve_task(y, task)


@pytest.mark.parametrize(
    ("n", "val", "test", "sizes"),
    [(10, 0.2, 0.2, (6, 2, 2)), (10, 0.2, 0.0, (8, 2, 0)), (3, 0.1, 0.1, None)],
)
def test_split_sizes(n: int, val: float, test: float, sizes: tuple[int, int, int] | None) -> None:
    if sizes is None:
        with pytest.raises(DataError, match=r"3 samples leave 3 for training and 0 for val"):
            split_sizes(n, val, test)
    else:
        assert split_sizes(n, val, test) == sizes
