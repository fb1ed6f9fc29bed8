"""How a run ended: one word from one vocabulary, shared by metrics.json, TensorBoard
and the sweepers."""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    COMPLETE = "complete"  # trained for every epoch
    EARLY_STOPPED = "early_stopped"  # the monitored metric stopped improving
    DIVERGED = "diverged"  # a loss or the monitored metric became NaN or infinite
    PRUNED = "pruned"  # a sweeper's pruner stopped it
    FAILED = "failed"  # it raised

    def __str__(self) -> str:
        return self.value
