from __future__ import annotations

import logging
import math
from typing import Any

import torch

from hpsweep.sweep.outcome import RunStatus
from hpsweep.training.callbacks._base import RunState, TrainingCallback
from hpsweep.training.monitor import Monitor

log = logging.getLogger(__name__)


class EarlyStoppingRule:
    """Decides when a monitored value has stopped improving. Pure: no model, no I/O.

    "Improving" is `Monitor.improves` (lower for mode "min", higher for "max", by more
    than `min_delta`). `update` returns True once `patience` consecutive values have
    not improved.

    >>> rule = EarlyStoppingRule(patience=2)
    >>> [rule.update(v) for v in (1.0, 0.5, 0.6, 0.7)]
    [False, False, False, True]
    """

    def __init__(self, patience: int, mode: str = "min", min_delta: float = 0.0) -> None:
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        self.patience = patience
        self.monitor = Monitor("", mode=mode, min_delta=min_delta)
        self.bad_steps = 0

    @property
    def best(self) -> float | None:
        return self.monitor.best

    @property
    def best_step(self) -> int:
        return self.monitor.best_step

    @property
    def step(self) -> int:
        return self.monitor.step

    def update(self, value: float) -> bool:
        """Record the next value; True means stop."""
        self.bad_steps = 0 if self.monitor.update(value) else self.bad_steps + 1
        return self.bad_steps >= self.patience


class EarlyStopping(TrainingCallback):
    """Stops a run whose monitored metric stopped improving, or became NaN/inf.

    With `restore_best_weights`, the model ends with the weights of its best epoch,
    so the final metrics (and the objective) are those of the model you would keep.
    """

    def __init__(
        self,
        monitor: str = "val/loss",
        mode: str = "min",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ) -> None:
        self.monitor = monitor
        self.rule = EarlyStoppingRule(patience=patience, mode=mode, min_delta=min_delta)
        self.restore_best_weights = restore_best_weights
        self.best_weights: dict[str, torch.Tensor] | None = None

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        if self.monitor not in metrics:
            raise KeyError(
                f"callbacks.early_stopping.monitor={self.monitor} is not a metric of this run; "
                f"it reports: {', '.join(sorted(metrics))}"
            )
        value = metrics[self.monitor]
        if not math.isfinite(value):
            log.warning("%s is %s at epoch %d: the run diverged", self.monitor, value, run.epoch)
            run.stop(RunStatus.DIVERGED)
            return
        stop = self.rule.update(value)
        if self.rule.best_step == self.rule.step and self.restore_best_weights:
            # A copy on every improvement: cheap for the models a sweep trains, and it
            # survives the optimizer's in-place updates of the live weights.
            self.best_weights = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
        run.summary["best_epoch"] = self.rule.best_step
        run.summary[f"best/{self.monitor}"] = self.rule.best
        if stop:
            log.info(
                "early stopping at epoch %d: %s has not improved on %.4g (epoch %d) for %d epochs",
                run.epoch,
                self.monitor,
                self.rule.best,
                self.rule.best_step,
                self.rule.patience,
            )
            run.stop(RunStatus.EARLY_STOPPED)

    def state_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.rule.monitor.state_dict(),
            "bad_steps": self.rule.bad_steps,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rule.monitor.load_state_dict(state["monitor"])
        self.rule.bad_steps = state["bad_steps"]
        self.best_weights = state["best_weights"]

    def on_fit_end(self, run: RunState, status: RunStatus) -> None:
        if run.paused:  # a PBT segment: the member trains on from these weights
            return
        if self.best_weights is not None and self.rule.best_step != run.epoch:
            log.info(
                "restoring the weights of epoch %d (best %s)", self.rule.best_step, self.monitor
            )
            run.model.load_state_dict(self.best_weights)
