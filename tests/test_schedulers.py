"""The `scheduler` options: each epoch's learning rate; warmup_cosine's factors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hpsweep.training import train
from hpsweep.training.callbacks import RunState, TrainingCallback
from hpsweep.training.loop import build
from hpsweep.training.schedulers import warmup_cosine
from tests.conftest import ComposeTrain


def factors(warmup: int, total: int, min_ratio: float, epochs: int) -> list[float]:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = warmup_cosine(optimizer, warmup, total, min_ratio)
    seen = []
    for _ in range(epochs):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return seen


@pytest.mark.parametrize(
    ("warmup", "total", "min_ratio", "expected"),
    [
        (0, 4, 0.0, [1.0, 0.853553, 0.5, 0.146447, 0.0]),
        (2, 4, 0.0, [1 / 3, 2 / 3, 1.0, 0.5, 0.0]),
        (1, 3, 0.5, [0.5, 1.0, 0.75, 0.5]),
    ],
    ids=["no-warmup", "warmup-2", "floor-half"],
)
def test_factors(warmup: int, total: int, min_ratio: float, expected: list[float]) -> None:
    assert factors(warmup, total, min_ratio, len(expected)) == pytest.approx(expected, abs=1e-6)


def test_rejects_negative_warmup() -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError):
        warmup_cosine(optimizer, -1, 10)


class LearningRates(TrainingCallback):
    def __init__(self) -> None:
        self.seen: list[float] = []

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        self.seen.append(metrics["lr"])


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        # no torch scheduler at all: one would wrap every optimizer step for nothing
        (["scheduler=constant"], [0.1, 0.1, 0.1, 0.1]),
        (
            ["scheduler=step", "scheduler.step_size=2", "scheduler.gamma=0.5"],
            [0.1, 0.1, 0.05, 0.05],
        ),
    ],
    ids=["constant", "step"],
)
def test_the_schedule_option_sets_each_epochs_lr(
    schedule: list[str], expected: list[float], compose_train: ComposeTrain, tmp_path: Path
) -> None:
    cfg = compose_train("data=synthetic", "trainer.epochs=4", "optimizer.lr=0.1", *schedule)
    assert (build(cfg).scheduler is None) == (schedule == ["scheduler=constant"])
    rates = LearningRates()
    train(cfg, tmp_path, extra_callbacks=[rates])
    assert rates.seen == pytest.approx(expected)
