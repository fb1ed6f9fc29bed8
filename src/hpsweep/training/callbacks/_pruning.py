from __future__ import annotations

import logging
import math

from hpsweep.sweep.outcome import RunStatus
from hpsweep.sweep.trial import SweepTrial
from hpsweep.training.callbacks._base import RunState, TrainingCallback

log = logging.getLogger(__name__)


class SweepPruning(TrainingCallback):
    """Reports the objective to the sweep's trial every epoch and stops the run as
    `pruned` when the sweep's pruner says so.

    Not a config option: the training loop always runs it, first, so pruning works
    whatever the `callbacks` group holds (`~callbacks.early_stopping`, `callbacks=none`).
    Outside an hpsweep sweep, or in a sweep without a pruner, it does nothing.
    """

    def __init__(self, objective: str = "val/loss") -> None:
        self.objective = objective
        self.trial: SweepTrial | None = None

    def on_fit_start(self, run: RunState) -> None:
        self.trial = SweepTrial.current()

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        value = metrics.get(self.objective)
        if self.trial is None or value is None or not math.isfinite(value):
            return  # a non-finite value ends the run as diverged, not pruned
        self.trial.report(value, step=run.epoch)
        # At the last epoch the budget is spent: a "prune" would stop nothing.
        if run.epoch < run.max_epochs and self.trial.should_prune():
            log.info("pruned at epoch %d by the sweep's pruner", run.epoch)
            run.stop(RunStatus.PRUNED)
