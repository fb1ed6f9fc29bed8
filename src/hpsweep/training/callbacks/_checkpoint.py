from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from hpsweep.training.callbacks._base import RunState, TrainingCallback
from hpsweep.training.monitor import Monitor


class BestCheckpoint(TrainingCallback):
    """Saves the model's weights whenever the monitored metric reaches a new best.

    Written atomically: a temporary file in the same folder, then `os.replace`, so a
    run killed mid-write leaves the previous checkpoint whole, never a torn one.
    Load with `torch.load(path)["model"]` into the same model config.
    """

    def __init__(self, monitor: str = "val/loss", mode: str = "min", filename: str = "best.pt"):
        self.monitor = Monitor(monitor, mode)
        self.filename = filename

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        value = metrics.get(self.monitor.metric, math.nan)
        if not self.monitor.update(value):
            return
        checkpoint = {
            "model": run.model.state_dict(),
            "epoch": run.epoch,
            "monitor": self.monitor.metric,
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
