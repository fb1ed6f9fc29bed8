from __future__ import annotations

import logging
import math

import torch

from hpsweep.callbacks._base import RunState, TrainingCallback
from hpsweep.status import RunStatus
from hpsweep.sweep_trial import SweepTrial

log = logging.getLogger(__name__)


class EarlyStoppingRule:
    """Decides when a monitored value has stopped improving. Pure: no model, no I/O.

    A value improves on the best so far when it is lower (mode "min") or higher
    ("max") by more than `min_delta`. `update` returns True once `patience`
    consecutive values have not improved.

    >>> rule = EarlyStoppingRule(patience=2)
    >>> [rule.update(v) for v in (1.0, 0.5, 0.6, 0.7)]
    [False, False, False, True]
    """

    def __init__(self, patience: int, mode: str = "min", min_delta: float = 0.0) -> None:
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.patience = patience
        self.mode = mode
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_step = 0
        self.step = 0
        self.bad_steps = 0

    def improves(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float) -> bool:
        """Record the next value; True means stop."""
        self.step += 1
        if self.improves(value):
            self.best, self.best_step, self.bad_steps = value, self.step, 0
        else:
            self.bad_steps += 1
        return self.bad_steps >= self.patience


class EarlyStopping(TrainingCallback):
    """Stops a run whose monitored metric stopped improving, or became NaN/inf.

    With `restore_best_weights`, the model ends with the weights of its best epoch,
    so the final metrics (and the objective) are those of the model you would keep.
    Inside an hpsweep sweep it also reports the monitored value to the run's trial
    each epoch and stops the run as `pruned` when the sweep's pruner says so.
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
        self.trial: SweepTrial | None = None

    def on_fit_start(self, run: RunState) -> None:
        self.trial = SweepTrial.current()

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
        if self.trial is not None:
            self.trial.report(value, step=run.epoch)
            # At the last epoch the budget is spent: a "prune" would stop nothing.
            if run.epoch < run.max_epochs and self.trial.should_prune():
                log.info("pruned at epoch %d by the sweep's pruner", run.epoch)
                run.stop(RunStatus.PRUNED)
                return
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

    def on_fit_end(self, run: RunState, status: RunStatus) -> None:
        if self.best_weights is not None and self.rule.best_step != run.epoch:
            log.info(
                "restoring the weights of epoch %d (best %s)", self.rule.best_step, self.monitor
            )
            run.model.load_state_dict(self.best_weights)
