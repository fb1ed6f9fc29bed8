"""Invalid values are rejected with one line that names the key, the value and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpsweep.training.validation import ConfigError, validate
from tests.conftest import ComposeTrain

INVALID = [
    # (overrides, fragment of the message)
    (["optimizer.lr=0"], "optimizer.lr=0: must be a number > 0"),
    (["optimizer.lr=-1e-3"], "optimizer.lr=-0.001: must be a number > 0"),
    (["optimizer=sgd", "optimizer.momentum=-0.5"], "optimizer.momentum=-0.5"),
    (["regularization.dropout=1.0"], "regularization.dropout=1.0: must be in [0, 1)"),
    (["regularization.dropout=-0.1"], "regularization.dropout=-0.1"),
    (["regularization.label_smoothing=1"], "regularization.label_smoothing=1"),
    (["regularization.weight_decay=-1"], "regularization.weight_decay=-1: must be >= 0"),
    (["trainer.batch_size=0"], "trainer.batch_size=0: must be an integer > 0"),
    (["trainer.batch_size=1.5"], "trainer.batch_size=1.5"),
    (["trainer.epochs=0"], "trainer.epochs=0"),
    (["trainer.device=tpu"], "trainer.device='tpu': must be auto, cpu or cuda"),
    (["objective.mode=up"], "objective.mode='up': must be min or max"),
    (["objective.metric=val/los"], "objective.metric='val/los': must be one of train/loss"),
    (["model.activation=swish"], "model.activation='swish': must be one of relu, gelu"),
    (["model=cnn", "model.kernel=2"], "model.kernel=2: must be an odd integer > 0"),
    (["model=attention", "model.dim=30", "model.heads=4"], "model.dim=30 must be divisible"),
    (["data.val_fraction=0"], "data.val_fraction=0: must be in (0, 1)"),
    (["data=csv"], "data.path is required"),
    (["data=npz"], "data.path is required"),
    (["data=csv", "data.path=missing.csv", "data.target=y"], "data file not found: missing.csv"),
]


@pytest.mark.parametrize(("overrides", "message"), INVALID, ids=lambda v: str(v))
def test_invalid_values_raise_one_clear_line(
    overrides: list[str], message: str, compose_train: ComposeTrain
) -> None:
    cfg = compose_train(*overrides)
    with pytest.raises(ConfigError) as error:
        validate(cfg)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_csv_without_target_column_lists_columns(
    blobs_csv: Path, compose_train: ComposeTrain
) -> None:
    cfg = compose_train("data=csv", f"data.path={blobs_csv}", "data.target=species")
    with pytest.raises(ConfigError, match=r"column 'species' not found.*f1, f2, f3, label"):
        validate(cfg)


def test_csv_without_target_key_is_required(blobs_csv: Path, compose_train: ComposeTrain) -> None:
    cfg = compose_train("data=csv", f"data.path={blobs_csv}")
    with pytest.raises(ConfigError, match=r"data.target is required"):
        validate(cfg)


def test_npz_without_arrays(tmp_path: Path, compose_train: ComposeTrain) -> None:
    import numpy as np

    np.savez(tmp_path / "bad.npz", features=np.zeros((3, 2)))
    cfg = compose_train("data=npz", f"data.path={tmp_path / 'bad.npz'}")
    with pytest.raises(ConfigError, match=r"must hold arrays 'x' and 'y'"):
        validate(cfg)


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["optimizer=sgd", "model=cnn", "regularization=dropout"],
        ["model=attention", "regularization=label_smoothing", "scheduler=warmup_cosine"],
        ["objective.metric=val/acc", "objective.mode=max"],
        ["trainer.num_threads=1", "trainer.device=cpu"],
    ],
    ids=lambda v: " ".join(v) or "defaults",
)
def test_valid_configs_pass(overrides: list[str], compose_train: ComposeTrain) -> None:
    validate(compose_train(*overrides))
