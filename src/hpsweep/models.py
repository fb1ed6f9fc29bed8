"""Moved to hpsweep.training.models; kept so that configs saved by earlier sweeps (their
best.yaml and .hydra/config.yaml name `hpsweep.models.*` targets) still instantiate."""

from hpsweep.training.models import CNN, MLP, Attention  # noqa: F401
