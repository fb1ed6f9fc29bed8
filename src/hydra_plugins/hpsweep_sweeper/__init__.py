"""hpsweep's Hydra sweeper: Optuna ask/tell with pruning inside a Hydra multirun."""

__version__ = "0.1.0"
