"""Moved to hpsweep.training.data; kept so that configs saved by earlier sweeps (their
best.yaml and .hydra/config.yaml name `hpsweep.data.*` targets) still instantiate."""

from hpsweep.training.data import load_csv, load_digits, load_npz, make_synthetic  # noqa: F401
