from __future__ import annotations

import math
import time
from typing import Any

from hpsweep.sweep.outcome import RunStatus
from hpsweep.sweep.saved_state import save_atomically
from hpsweep.training.callbacks._base import RunState, TrainingCallback
from hpsweep.training.monitor import Monitor


class BestCheckpoint(TrainingCallback):
    """Saves the weights of the epoch where the monitored metric was best.

    Each new best is copied in memory (cheap: a copy of the weights, on their device);
    the file is written at fit end — also when training raised or was interrupted
    (Ctrl-C, SIGTERM) — and at most every `save_every_secs` seconds while training, so
    a killed run loses at most that much and the loop does not serialize weights at
    every improvement. Written atomically: a temporary file in the same folder, then
    `os.replace`, so a run killed mid-write leaves the previous checkpoint whole, never
    a torn one. Load with `torch.load(path)["model"]` into the same model config.
    """

    def __init__(
        self,
        monitor: str = "val/loss",
        mode: str = "min",
        filename: str = "best.pt",
        save_every_secs: float = 5.0,
    ) -> None:
        self.monitor = Monitor(monitor, mode)
        self.filename = filename
        self.save_every_secs = save_every_secs
        self.pending: dict[str, Any] | None = None  # a best not yet on disk
        self.last_save = 0.0

    def on_fit_start(self, run: RunState) -> None:
        self.last_save = time.monotonic()

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        value = metrics.get(self.monitor.metric, math.nan)
        if self.monitor.update(value):
            # A copy: the optimizer updates the live weights in place.
            weights = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
            self.pending = {
                "model": weights,
                "epoch": run.epoch,
                "monitor": self.monitor.metric,
                "value": value,
            }
        if self.pending is not None and time.monotonic() - self.last_save >= self.save_every_secs:
            self.save(run)

    def on_fit_end(self, run: RunState, status: RunStatus) -> None:
        if self.pending is not None:
            self.save(run)

    def state_dict(self) -> dict[str, Any]:
        # A best not yet written travels with the state: written after a resume.
        return {"monitor": self.monitor.state_dict(), "pending": self.pending}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state["monitor"])
        self.pending = state["pending"]

    def save(self, run: RunState) -> None:
        assert self.pending is not None
        save_atomically(self.pending, run.output_dir / self.filename)
        self.pending = None
        self.last_save = time.monotonic()
