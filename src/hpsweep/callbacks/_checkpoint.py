from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from hpsweep.callbacks._base import RunState, TrainingCallback


class BestCheckpoint(TrainingCallback):
    """Saves the model's weights whenever the monitored metric reaches a new best.

    Written atomically: a temporary file in the same folder, then `os.replace`, so a
    run killed mid-write leaves the previous checkpoint whole, never a torn one.
    Load with `torch.load(path)["model"]` into the same model config.
    """

    def __init__(self, monitor: str = "val/loss", mode: str = "min", filename: str = "best.pt"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.mode = mode
        self.filename = filename
        self.best: float | None = None

    def _is_better(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        value = metrics.get(self.monitor, math.nan)
        if not self._is_better(value):
            return
        self.best = value
        checkpoint = {
            "model": run.model.state_dict(),
            "epoch": run.epoch,
            "monitor": self.monitor,
            "value": value,
        }
        save_atomically(checkpoint, run.output_dir / self.filename)


def save_atomically(obj: object, path: Path) -> None:
    """torch.save to a temporary file beside `path`, then rename it over `path`."""
    # Same folder, so os.replace is a rename within one filesystem: atomic on POSIX.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
