"""Benchmark: what the TensorBoard and best-checkpoint callbacks cost the loop per epoch.

In process, no training: their `on_epoch_end` for 300 epochs of the digits MLP's
weights, with a val/loss that improves every epoch (the checkpoint's worst case).
Prints CPU and wall milliseconds an epoch; compare with a ~30 ms digits epoch.

    PYTHONPATH=src python bench/callback_overhead.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from omegaconf import OmegaConf
from torch import nn

from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hpsweep.training.callbacks import BestCheckpoint, RunState, TensorBoardLogger

EPOCHS = 300


def main() -> None:
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Linear(128, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    with tempfile.TemporaryDirectory() as tmp:
        run = RunState(
            OmegaConf.create(), model, Path(tmp), {"optimizer": "adam"}, max_epochs=EPOCHS
        )
        callbacks = [TensorBoardLogger(), BestCheckpoint()]
        for callback in callbacks:
            callback.on_fit_start(run)
        cpu, wall = time.process_time(), time.perf_counter()
        for epoch in range(1, EPOCHS + 1):
            run.epoch = epoch
            metrics = {"train/loss": 1 / epoch, "val/loss": 1 / epoch, "val/acc": 0.9, "lr": 1e-3}
            for callback in callbacks:
                callback.on_epoch_end(run, metrics)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        for callback in callbacks:
            callback.on_fit_end(run, RunStatus.COMPLETE)
            outcome = TrialOutcome(RunStatus.COMPLETE, 1 / EPOCHS, metrics={"val/loss": 1 / EPOCHS})
            callback.on_train_end(run, outcome)
    print(f"{1000 * cpu / EPOCHS:.2f} ms CPU, {1000 * wall / EPOCHS:.2f} ms wall an epoch")


if __name__ == "__main__":
    main()
