from __future__ import annotations

import logging
import math
from collections.abc import Sequence

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

    def __init__(self, objective: str | Sequence[str] = "val/loss") -> None:
        # Several objectives (objective.metric=[...]): each epoch reports their list.
        self.objectives = [objective] if isinstance(objective, str) else list(objective)
        self.trial: SweepTrial | None = None

    def on_fit_start(self, run: RunState) -> None:
        self.trial = SweepTrial.current()

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        values = [metrics.get(name) for name in self.objectives]
        if self.trial is None or not all(v is not None and math.isfinite(v) for v in values):
            return  # a non-finite value ends the run as diverged, not pruned
        self.trial.report(values if len(values) > 1 else values[0], step=run.epoch)
        # At the last epoch the budget is spent: a "prune" would stop nothing.
        if run.epoch < run.max_epochs and self.trial.should_prune():
            if self.trial.segment_ends(run.epoch):
                log.info("PBT segment ends at epoch %d: the sweep continues it", run.epoch)
                run.paused = True
            else:
                log.info("pruned at epoch %d by the sweep's pruner", run.epoch)
            run.stop(RunStatus.PRUNED)
