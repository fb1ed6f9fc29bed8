"""Loading, splitting and task inference of the data options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from hpsweep.training.data import (
    Splits,
    digits_arrays,
    infer_task,
    load_csv,
    load_digits,
    load_npz,
    make_synthetic,
    split_arrays,
)
from hpsweep.training.trusted_targets import TRUSTED_TARGETS
from tests.conftest import ComposeTrain


@pytest.mark.parametrize(
    ("targets", "task"),
    [
        (np.array(["cat", "dog", "cat"]), "classification"),
        (np.array(["0", "1", "2", "1"]), "classification"),
        (np.array([3.0, 7.0, 9.0]), "classification"),
        (np.array(["0.5", "1.25", "2.0"]), "regression"),
        (np.arange(200), "regression"),  # more distinct integers than classes make sense
    ],
    ids=["strings", "integer-strings", "integral-floats", "fractions", "many-integers"],
)
def test_infer_task(targets: np.ndarray, task: str) -> None:
    assert infer_task(targets) == task


def test_digits_are_scikit_learns_digits() -> None:
    """Read from scikit-learn's bundled file without importing scikit-learn: the same
    arrays as its own loader gives."""
    from sklearn.datasets import load_digits as sklearn_digits

    images, labels = digits_arrays()
    reference = sklearn_digits()
    assert images.shape == (1797, 8, 8) and labels.dtype == reference.target.dtype
    np.testing.assert_array_equal(images, reference.images)
    np.testing.assert_array_equal(labels, reference.target)


def test_a_run_on_digits_does_not_import_scikit_learn() -> None:
    code = "import sys; from hpsweep.training.data import load_digits; load_digits(); "
    code += "print('sklearn' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.stdout.split() == ["False"], shown.stderr


def test_digits_split_is_fixed_by_split_seed() -> None:
    first, again, other = load_digits(), load_digits(), load_digits(split_seed=1)
    assert (len(first.x_train), len(first.x_val), len(first.x_test)) == (1079, 359, 359)
    assert first.input_shape == (1, 8, 8)
    assert first.num_outputs == 10
    assert torch.equal(first.x_val, again.x_val)
    assert not torch.equal(first.x_val, other.x_val)


def sample_ids(val_seed: int | None, split_seed: int = 0) -> dict[str, set[int]]:
    """Which of 100 samples each split holds: labels are the samples' own indices."""
    ids = np.arange(100)
    data = split_arrays(
        ids.astype(np.float32)[:, None],
        ids,
        "classification",
        0.2,
        0.2,
        split_seed,
        val_seed=val_seed,
    )
    return {name: set(getattr(data, f"y_{name}").tolist()) for name in ("train", "val", "test")}


@pytest.mark.parametrize(
    ("val_seed", "other", "same_val"),
    [
        (None, None, True),  # unset: split_seed alone fixes all three splits
        (0, 0, True),  # the same val_seed, the same validation split
        (0, 1, False),  # another val_seed validates on other samples ...
        (None, 3, False),  # ... than the unset one, too
    ],
)
def test_val_seed_reshuffles_validation_and_keeps_the_test_split(
    val_seed: int | None, other: int | None, same_val: bool
) -> None:
    first, second = sample_ids(val_seed), sample_ids(other)
    assert first["test"] == second["test"]
    assert (first["val"] == second["val"]) is same_val
    for splits in (first, second):
        assert (len(splits["train"]), len(splits["val"]), len(splits["test"])) == (60, 20, 20)
        assert splits["train"] | splits["val"] | splits["test"] == set(range(100))


def test_val_seed_follows_the_training_seed_by_interpolation(
    compose_train: ComposeTrain,
) -> None:
    """The README's recipe, typed on the command line: data.val_seed='${trainer.seed}'
    gives every seed (so every repeat) its own validation split, on one test split."""

    def digits(seed: int) -> Splits:
        cfg = compose_train(
            "data.val_fraction=0.05", "data.val_seed=${trainer.seed}", f"trainer.seed={seed}"
        )
        return instantiate(cfg.data, _execution_whitelist_=TRUSTED_TARGETS)

    two, three = digits(2), digits(3)
    assert len(two.x_val) == 90
    assert torch.equal(two.y_test, three.y_test)
    assert not torch.equal(two.y_val, three.y_val)
    assert torch.equal(two.y_val, digits(2).y_val)


def test_features_are_standardized_by_training_statistics() -> None:
    data = make_synthetic()
    flat = data.x_train.reshape(len(data.x_train), -1)
    assert torch.allclose(flat.mean(dim=0), torch.zeros(flat.shape[1]), atol=1e-5)
    assert torch.allclose(flat.std(dim=0, unbiased=False), torch.ones(flat.shape[1]), atol=1e-4)


def test_csv_with_class_names(blobs_csv: Path) -> None:
    data = load_csv(str(blobs_csv), target="label")
    assert data.task == "classification"
    assert data.num_outputs == 3
    assert data.input_shape == (3,)
    assert set(data.y_train.tolist()) == {0, 1, 2}


def test_csv_regression(tmp_path: Path) -> None:
    from tests.data_files import write_blobs_csv

    data = load_csv(str(write_blobs_csv(tmp_path / "r.csv", regression=True)), target="label")
    assert data.task == "regression"
    assert data.y_train.shape == (len(data.x_train), 1)


def test_csv_rejects_text_features(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("city,size,label\nParis,1,a\nRome,2,b\nOslo,3,a\nBern,4,b\nNice,5,a\n")
    with pytest.raises(ValueError, match=r"column 'city', row 1 \(line 2\): 'Paris' is not a"):
        load_csv(str(path), target="label")


def test_npz(blobs_npz: Path) -> None:
    data = load_npz(str(blobs_npz))
    assert (data.task, data.num_outputs, data.input_shape) == ("classification", 2, (5,))


def test_too_few_samples_for_a_validation_split() -> None:
    with pytest.raises(ValueError, match=r"for validation"):
        make_synthetic(n_samples=4, val_fraction=0.1, test_fraction=0.1)
