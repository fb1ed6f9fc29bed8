"""Moved to hpsweep.training.schedulers; kept so that configs saved by earlier sweeps (their
best.yaml and .hydra/config.yaml name `hpsweep.schedulers.*` targets) still instantiate."""

from hpsweep.training.schedulers import warmup_cosine  # noqa: F401
