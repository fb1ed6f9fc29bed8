"""EarlyStoppingRule by tables, in the manner of Optuna's PatientPruner tests, and the
EarlyStopping callback inside real training."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpsweep.training import train
from hpsweep.training.callbacks import EarlyStoppingRule, RunState, TrainingCallback
from hpsweep.training.validation import ConfigError
from tests.conftest import ComposeTrain

# (patience, min_delta, mode, values, step at which update() first says stop or None)
STOP_TABLE = [
    (1, 0.0, "min", [1.0, 0.9, 0.95], 3),
    (2, 0.0, "min", [1.0, 0.9, 0.95, 0.96], 4),
    (2, 0.0, "min", [1.0, 0.9, 0.95, 0.8, 0.85, 0.86], 6),  # an improvement resets the count
    (2, 0.0, "min", [1.0, 1.0, 1.0], 3),  # equal is not better
    (2, 0.1, "min", [1.0, 0.95, 0.92, 0.85], 3),  # 0.05 and 0.08 are within min_delta
    (2, 0.1, "min", [1.0, 0.85, 0.7, 0.55], None),
    (1, 0.0, "max", [0.5, 0.6, 0.55], 3),
    (3, 0.0, "max", [0.5, 0.6, 0.7, 0.8], None),
    (2, 0.05, "max", [0.5, 0.54, 0.53, 0.6], 3),
]


@pytest.mark.parametrize(
    ("patience", "min_delta", "mode", "values", "expected_stop"),
    STOP_TABLE,
    ids=[f"p{p}-d{d}-{m}-{'-'.join(map(str, v))}" for p, d, m, v, _ in STOP_TABLE],
)
def test_stop_step(
    patience: int, min_delta: float, mode: str, values: list[float], expected_stop: int | None
) -> None:
    rule = EarlyStoppingRule(patience=patience, mode=mode, min_delta=min_delta)
    stops = [step for step, value in enumerate(values, start=1) if rule.update(value)]
    assert (stops[0] if stops else None) == expected_stop


@pytest.mark.parametrize(
    ("values", "mode", "best", "best_step"),
    [([3.0, 1.0, 2.0], "min", 1.0, 2), ([3.0, 1.0, 2.0], "max", 3.0, 1)],
)
def test_best_value_and_step(values: list[float], mode: str, best: float, best_step: int) -> None:
    rule = EarlyStoppingRule(patience=10, mode=mode)
    for value in values:
        rule.update(value)
    assert (rule.best, rule.best_step) == (best, best_step)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patience": 0}, "patience must be an integer >= 1"),
        ({"patience": 2.5}, "patience must be an integer >= 1"),
        ({"patience": 2, "mode": "lower"}, "mode must be 'min' or 'max'"),
        ({"patience": 2, "min_delta": -0.1}, "min_delta must be >= 0"),
    ],
)
def test_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EarlyStoppingRule(**kwargs)


FAST = ("data=synthetic", "trainer.epochs=12")


def test_plateau_stops_early(compose_train: ComposeTrain, tmp_path: Path) -> None:
    # lr 1e-7 barely moves the weights: every epoch after the first is within min_delta.
    cfg = compose_train(
        *FAST,
        "optimizer.lr=1e-7",
        "callbacks.early_stopping.patience=2",
        "callbacks.early_stopping.min_delta=0.01",
    )
    metrics = train(cfg, tmp_path).to_json()
    assert metrics["status"] == "early_stopped"
    assert metrics["epochs"] == 3
    assert metrics["best_epoch"] == 1


def test_restored_weights_make_the_final_metrics_the_best(
    compose_train: ComposeTrain, tmp_path: Path
) -> None:
    # A large lr makes val/loss noisy: this run's best epoch is not its last one, so
    # only restoring the best weights makes the final val/loss the best one.
    cfg = compose_train(*FAST, "optimizer.lr=0.05", "callbacks.early_stopping.patience=3")
    metrics = train(cfg, tmp_path).to_json()
    assert metrics["best_epoch"] < metrics["epochs"]
    assert metrics["val/loss"] == pytest.approx(metrics["best/val/loss"], rel=1e-5)


def test_early_stopping_can_be_removed(compose_train: ComposeTrain, tmp_path: Path) -> None:
    cfg = compose_train(*FAST, "optimizer.lr=1e-7", "~callbacks.early_stopping")
    metrics = train(cfg, tmp_path).to_json()
    assert (metrics["status"], metrics["epochs"]) == ("complete", 12)
    assert "best_epoch" not in metrics


def test_monitor_that_is_no_metric(compose_train: ComposeTrain, tmp_path: Path) -> None:
    # Checked before anything is built (hpsweep.training.validation), not at epoch 1.
    cfg = compose_train(*FAST, "callbacks.early_stopping.monitor=val/f1")
    with pytest.raises(ConfigError, match="monitor=val/f1 is not reported after every epoch"):
        train(cfg, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_best_checkpoint_is_the_best_epoch(compose_train: ComposeTrain, tmp_path: Path) -> None:
    import torch

    metrics = train(compose_train(*FAST, "optimizer.lr=0.05"), tmp_path).to_json()
    checkpoint = torch.load(tmp_path / "best.pt")
    assert checkpoint["epoch"] == metrics["best_epoch"]
    assert checkpoint["value"] == pytest.approx(metrics["best/val/loss"])
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


class InterruptAt(TrainingCallback):
    """Ctrl-C at one epoch, as Python raises it in the loop."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        if run.epoch == self.epoch:
            raise KeyboardInterrupt


def test_an_interrupted_run_still_writes_its_best_checkpoint(
    compose_train: ComposeTrain, tmp_path: Path
) -> None:
    import torch

    # No timed save during these few epochs: only the end of fit can write it.
    cfg = compose_train(*FAST, "optimizer.lr=0.05", "callbacks.checkpoint.save_every_secs=3600")
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path, extra_callbacks=[InterruptAt(epoch=3)])
    checkpoint = torch.load(tmp_path / "best.pt")
    assert 1 <= checkpoint["epoch"] <= 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
