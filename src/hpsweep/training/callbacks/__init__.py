"""Callbacks inside the training loop: early stopping, best checkpoint, TensorBoard,
and the sweep's pruning.

Hydra's own callbacks fire only at job start and end (and turn exceptions into
warnings), so per-epoch work hooks into the loop here instead. The `callbacks`
config group lists which ones a run uses; remove one with `~callbacks.<name>`.
`SweepPruning` is not in the group: the loop always runs it (it is idle outside a
pruning sweep).
"""

from hpsweep.training.callbacks._base import RunState, TrainingCallback
from hpsweep.training.callbacks._checkpoint import BestCheckpoint
from hpsweep.training.callbacks._early_stopping import EarlyStopping, EarlyStoppingRule
from hpsweep.training.callbacks._pruning import SweepPruning
from hpsweep.training.callbacks._schedule import ScheduleError, ScheduleReplay
from hpsweep.training.callbacks._tensorboard import TensorBoardLogger

__all__ = [
    "BestCheckpoint",
    "EarlyStopping",
    "EarlyStoppingRule",
    "RunState",
    "ScheduleError",
    "ScheduleReplay",
    "SweepPruning",
    "TensorBoardLogger",
    "TrainingCallback",
]
