"""Invalid values are rejected with one line that names the key, the value and the rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hpsweep.training.validation import ACTIVATION_NAMES, ConfigError, validate
from tests.conftest import ComposeTrain
from tests.data_files import write_blobs_csv

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
    # metric names against what the run reports, modes against their metric
    (["callbacks.early_stopping.monitor=val/nonexistent"], "is not reported after every epoch"),
    (["objective.metric=test/loss"], "callbacks.early_stopping.monitor=test/loss is not reported"),
    (["objective.metric=test/acc", "callbacks=none", "data.test_fraction=0"], "no test split"),
    (["objective.metric=val/acc", "objective.mode=min"], "objective.mode=min contradicts"),
    (["callbacks.checkpoint.mode=max"], "callbacks.checkpoint.mode=max contradicts"),
    (["callbacks.tensorboard.mode=up"], "callbacks.tensorboard.mode='up': must be min or max"),
    (["callbacks.early_stopping.patience=0"], "callbacks.early_stopping.patience=0"),
    (["data=synthetic", "data.n_samples=2"], "2 samples leave 2 for training and 0 for valid"),
    # several objectives
    (["objective.metric=[val/loss,model/size]"], "objective.metric=['val/loss', 'model/size']"),
    (["objective.metric=[val/loss,val/acc]", "objective.mode=[min]"], "lists 1 directions for 2"),
    (
        ["objective.metric=[val/loss,val/acc]", "objective.mode=[min,min]"],
        "mode=min contradicts val/acc",
    ),
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
        ["objective.metric=val/acc", "callbacks.early_stopping.monitor=val/loss"],
        ["objective.metric=test/acc", "callbacks=none"],
        ["trainer.num_threads=1", "trainer.device=cpu"],
    ],
    ids=lambda v: " ".join(v) or "defaults",
)
def test_valid_configs_pass(overrides: list[str], compose_train: ComposeTrain) -> None:
    validate(compose_train(*overrides))


def test_data_that_does_not_fit_the_model_or_the_metric(
    tmp_path: Path, compose_train: ComposeTrain
) -> None:
    regression = write_blobs_csv(tmp_path / "r.csv", regression=True)
    data = ("data=csv", f"data.path={regression}", "data.target=label")
    for overrides, message in [
        (["model=cnn"], r"model=cnn needs image data.*shape \(3,\): use model=mlp"),
        (["objective.metric=val/acc"], r"not reported by this run on data=csv .*\(regression\)"),
        (["data.task=classification"], r"needs class labels .*: use data.task=regression"),
    ]:
        with pytest.raises(ConfigError, match=message):
            validate(compose_train(*data, *overrides))


@pytest.mark.parametrize(
    ("overrides", "mode", "direction"),
    [
        ([], "min", "minimize"),
        (["objective.metric=val/acc"], "max", "maximize"),
        (["objective.metric=test/acc", "callbacks=none"], "max", "maximize"),
        (["objective.metric=train/loss"], "min", "minimize"),
        (["objective.metric=[val/loss,val/acc]"], ["min", "max"], ["minimize", "maximize"]),
        (["objective.metric=[val/loss,model/params]"], ["min", "min"], ["minimize", "minimize"]),
    ],
)
def test_mode_defaults_to_the_metrics_direction(
    overrides: list[str], mode: str, direction: str, compose_train: ComposeTrain
) -> None:
    cfg = compose_train(*overrides, hydra=True)
    validate(cfg)
    assert cfg.objective.mode == mode
    assert cfg.hydra.sweeper.direction == direction  # objective.direction, in the presets
    for callback in (cfg.callbacks or {}).values():  # they watch the first objective
        assert callback.mode == (mode if isinstance(mode, str) else mode[0])


def test_a_callbacks_mode_follows_its_own_monitor(compose_train: ComposeTrain) -> None:
    cfg = compose_train("objective.metric=val/acc", "callbacks.early_stopping.monitor=val/loss")
    assert (cfg.callbacks.early_stopping.mode, cfg.callbacks.checkpoint.mode) == ("min", "max")


def test_activation_names_are_the_models(compose_train: ComposeTrain) -> None:
    from hpsweep.training.models import ACTIVATIONS

    assert tuple(ACTIVATIONS) == ACTIVATION_NAMES


def test_checking_a_config_imports_no_torch() -> None:
    # train.py stops bad input before importing torch; that needs these modules torch-free.
    code = (
        "import sys, hpsweep.training.validation, hpsweep.hydra_callbacks.validate\n"
        "import hpsweep.hydra_callbacks.report, hpsweep.hydra_callbacks.tensorboard_experiment\n"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
