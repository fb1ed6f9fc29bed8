"""Moved to hpsweep.training.callbacks; kept so that configs saved by earlier sweeps (their
best.yaml and .hydra/config.yaml name `hpsweep.callbacks.*` targets) still instantiate."""

from hpsweep.training.callbacks import BestCheckpoint, EarlyStopping, TensorBoardLogger  # noqa: F401
