"""hpsweep: declarative hyperparameter sweeps for PyTorch on Hydra."""

__version__ = "0.1.0"
