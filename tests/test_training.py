"""train(cfg) learns, reproduces itself from its seed, and reports the objective."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from hpsweep.sweep.outcome import RunStatus
from hpsweep.training import cpu_threads, resolve_device, train
from hpsweep.training.callbacks import RunState, TrainingCallback
from hpsweep.training.data import load_csv, load_digits
from hpsweep.training.loop import evaluate, loss_to_target_units, train_one_epoch
from hpsweep.training.models import MLP
from hpsweep.training.objective import UnknownMetricError, objective_value
from tests.conftest import ComposeTrain
from tests.data_files import write_blobs_csv

FAST = ("data=synthetic", "trainer.epochs=8")


def drop_timing(record: dict[str, Any]) -> dict[str, Any]:
    """A run's record (its metrics.json) without when it ran and how long it took."""
    return {
        k: v
        for k, v in record.items()
        if k not in ("seconds", "started", "finished", "time/epoch_seconds")
    }


def test_loss_falls_well_below_its_start(compose_train: ComposeTrain, tmp_path: Path) -> None:
    metrics = train(compose_train(*FAST), tmp_path).to_json()
    chance = math.log(4)  # cross-entropy of a uniform guess over 4 classes
    assert metrics["train/loss"] < 0.25 * chance
    assert metrics["val/loss"] < 0.5 * chance
    assert metrics["val/acc"] > 0.8


def test_same_seed_same_result(compose_train: ComposeTrain, tmp_path: Path) -> None:
    overrides = (*FAST, "regularization=dropout", "regularization.augment=0.1")
    first = train(compose_train(*overrides), tmp_path / "first").to_json()
    again = train(compose_train(*overrides), tmp_path / "again").to_json()
    other = train(compose_train(*overrides, "trainer.seed=1"), tmp_path / "other").to_json()
    assert drop_timing(first) == drop_timing(again)
    assert first["val/loss"] != other["val/loss"]


def test_regression_on_a_csv(tmp_path: Path, compose_train: ComposeTrain) -> None:
    csv = write_blobs_csv(tmp_path / "r.csv", regression=True)
    metrics = train(
        compose_train("data=csv", f"data.path={csv}", "data.target=label", "trainer.epochs=30"),
        tmp_path,
    ).to_json()
    assert "val/acc" not in metrics
    assert metrics["val/loss"] < 0.5  # the target's variance is about 6.5


def test_a_regression_target_in_any_units_is_learned(
    tmp_path: Path, compose_train: ComposeTrain
) -> None:
    # A target in the hundreds (variance ~ 40000, like make_regression's) is standardized
    # for training; the losses come back in its own units.
    csv = write_blobs_csv(tmp_path / "r.csv", regression=True, scale=80.0)
    y = np.loadtxt(csv, delimiter=",", skiprows=1)[:, -1]
    metrics = train(
        compose_train("data=csv", f"data.path={csv}", "data.target=label", "trainer.epochs=5"),
        tmp_path,
    ).to_json()
    assert metrics["val/loss"] < 0.1 * y.var()


def test_regression_losses_are_in_the_targets_units(tmp_path: Path) -> None:
    csv = write_blobs_csv(tmp_path / "r.csv", regression=True, scale=80.0)
    data = load_csv(str(csv), target="label")
    y = np.loadtxt(csv, delimiter=",", skiprows=1)[:, -1]
    assert abs(data.y_train.mean().item()) < 1e-4  # standardized by the training split
    assert data.y_std > 100

    class PredictsTheTrainingMean(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.zeros(len(x), 1)  # 0 in standardized units: y_mean in the target's

    loss = evaluate(
        PredictsTheTrainingMean(), data.x_val, data.y_val, "regression", loss_to_target_units(data)
    )["loss"]
    y_val = data.y_val.numpy().ravel() * data.y_std + data.y_mean  # back to the file's values
    assert np.abs(y_val[:, None] - y[None, :]).min(axis=1).max() < 1e-2
    assert loss == pytest.approx(np.mean((y_val - data.y_mean) ** 2), rel=1e-4)


@pytest.mark.parametrize("batch_size", [64, 100, 2000])  # a short last batch; one batch
def test_an_epochs_training_loss_is_the_mean_over_samples(batch_size: int) -> None:
    """With a learning rate of 0 the weights stay put, so the epoch's loss, summed
    batch by batch, must equal the loss of the whole training split at once."""
    data = load_digits()
    model = MLP(data.input_shape, data.num_outputs)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    epoch_loss = train_one_epoch(model, optimizer, loss_fn, data, batch_size, 0.0, generator)
    whole = evaluate(model, data.x_train, data.y_train, "classification")["loss"]
    assert len(data.x_train) % 64 and epoch_loss == pytest.approx(whole, rel=1e-5)


def test_diverging_run_stops_at_the_first_non_finite_loss(
    compose_train: ComposeTrain, tmp_path: Path
) -> None:
    metrics = train(compose_train(*FAST, "optimizer=sgd", "optimizer.lr=1e12"), tmp_path).to_json()
    assert metrics["status"] == "diverged"
    assert metrics["epochs"] == 1
    assert not math.isfinite(metrics["train/loss"])


class StopAtEpoch(TrainingCallback):
    """A caller's own hook: records what it sees, prunes the run at `epoch`."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.seen: list[tuple[int, float]] = []

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        self.seen.append((run.epoch, metrics["val/loss"]))
        if run.epoch == self.epoch:
            run.stop(RunStatus.PRUNED)


def test_a_callers_own_callbacks_run_after_the_configured_ones(
    compose_train: ComposeTrain, tmp_path: Path
) -> None:
    hook = StopAtEpoch(3)
    metrics = train(compose_train(*FAST), tmp_path, extra_callbacks=[hook]).to_json()
    assert metrics["status"] == "pruned"
    assert metrics["epochs"] == 3
    assert [epoch for epoch, _ in hook.seen] == [1, 2, 3]
    assert all(math.isfinite(loss) for _, loss in hook.seen)


@pytest.mark.parametrize(
    ("metric", "expected"), [("val/loss", 0.3), ("val/acc", 0.9), ("epochs", 5.0)]
)
def test_objective_value(metric: str, expected: float) -> None:
    objective = OmegaConf.create({"metric": metric, "mode": "min"})
    assert objective_value(objective, {"val/loss": 0.3, "val/acc": 0.9, "epochs": 5}) == expected


def test_objective_names_no_metric() -> None:
    objective = OmegaConf.create({"metric": "val/acc", "mode": "max"})
    with pytest.raises(
        UnknownMetricError, match=r"val/acc is not a metric of this run; .*val/loss"
    ):
        objective_value(objective, {"val/loss": 0.3, "train/loss": 0.2})


@pytest.mark.parametrize(
    ("name", "cuda_available", "expected"),
    [("auto", True, "cuda"), ("auto", False, "cpu"), ("cpu", True, "cpu"), ("cuda", True, "cuda")],
)
def test_device_auto_picks_a_gpu_when_torch_sees_one(
    name: str, cuda_available: bool, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    # No GPU here: torch's own answer is faked, the choice made on it is the code under test.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_available)
    assert resolve_device(name).type == expected


def test_device_cuda_without_a_gpu_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"trainer\.device=cuda but torch sees no CUDA device"):
        resolve_device("cuda")


@pytest.mark.parametrize(("configured", "expected"), [(3, 3), (1, 1), (None, None)])
def test_num_threads_outside_a_launcher(configured: int | None, expected: int | None) -> None:
    # Outside Hydra (no launcher workers to share the cores with) only the setting counts.
    assert cpu_threads(configured) == expected
