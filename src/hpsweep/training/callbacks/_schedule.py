from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from torch import nn

from hpsweep.training.callbacks._base import RunState, TrainingCallback

OPTIMIZER_PREFIX = "optimizer."
DROPOUT_KEY = "regularization.dropout"


class ScheduleError(ValueError):
    """A schedule holds a key this run cannot change while it trains."""


class ScheduleReplay(TrainingCallback):
    """Replays a PBT winner's schedule (`trainer.schedule=<sweep>/best_schedule.yaml`)
    in one run: before each range of epochs its hyperparameters are set on the live
    run, as a PBT segment set them on the state it continued (training.resume.adopt).

    What a run can change while it trains: the optimizer's hyperparameters
    (`optimizer.lr`, `optimizer.weight_decay`, `optimizer.momentum`, ...: each
    parameter group's) and `regularization.dropout` (the model's dropout layers). Any
    other key stops the run before it trains, with one line.
    """

    def __init__(self, path: str | Path, optimizer: Any, scheduler: Any = None) -> None:
        self.ranges = yaml.safe_load(Path(path).read_text())["schedule"]
        self.optimizer, self.scheduler = optimizer, scheduler

    def on_fit_start(self, run: RunState) -> None:
        for entry in self.ranges:
            for key in entry["params"]:
                self.check(key, run.model)
        self.apply(run, run.epoch + 1)

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        if any(entry["from_epoch"] == run.epoch + 1 for entry in self.ranges):
            self.apply(run, run.epoch + 1)

    def check(self, key: str, model: nn.Module) -> None:
        if key.startswith(OPTIMIZER_PREFIX):
            name = key[len(OPTIMIZER_PREFIX) :]
            if all(name in group for group in self.optimizer.param_groups):
                return
        if key == DROPOUT_KEY and dropout_layers(model):
            return
        raise ScheduleError(
            f"trainer.schedule: {key} cannot change while the run trains (the optimizer's "
            f"hyperparameters and {DROPOUT_KEY} of a model with dropout can)"
        )

    def apply(self, run: RunState, epoch: int) -> None:
        entry = next((e for e in self.ranges if e["from_epoch"] <= epoch <= e["to_epoch"]), None)
        if entry is None:
            return
        for key, value in entry["params"].items():
            if key == DROPOUT_KEY:
                for layer in dropout_layers(run.model):
                    layer.p = float(value)
                continue
            name = key[len(OPTIMIZER_PREFIX) :]
            for group in self.optimizer.param_groups:
                group[name] = value
                if name == "lr" and "initial_lr" in group:
                    group["initial_lr"] = value
            if name == "lr" and self.scheduler is not None:
                self.scheduler.base_lrs = [value for _ in self.optimizer.param_groups]


def dropout_layers(model: nn.Module) -> list[nn.Dropout]:
    return [m for m in model.modules() if isinstance(m, nn.Dropout)]
