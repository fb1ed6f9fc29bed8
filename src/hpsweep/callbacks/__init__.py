"""Callbacks inside the training loop: early stopping, best checkpoint, TensorBoard.

Hydra's own callbacks fire only at job start and end (and turn exceptions into
warnings), so per-epoch work hooks into the loop here instead. The `callbacks`
config group lists which ones a run uses; remove one with `~callbacks.<name>`.
"""

from hpsweep.callbacks._base import RunState, TrainingCallback
from hpsweep.callbacks._checkpoint import BestCheckpoint
from hpsweep.callbacks._early_stopping import EarlyStopping, EarlyStoppingRule
from hpsweep.callbacks._tensorboard import TensorBoardLogger

__all__ = [
    "BestCheckpoint",
    "EarlyStopping",
    "EarlyStoppingRule",
    "RunState",
    "TensorBoardLogger",
    "TrainingCallback",
]
