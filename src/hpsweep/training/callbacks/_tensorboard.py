from __future__ import annotations

import math

from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.plugins.scalar.summary_v2 import scalar_pb
from tensorboard.plugins.text.summary_v2 import text_pb

from hpsweep.sweep.outcome import RunStatus
from hpsweep.tensorboard.events import EventWriter, session_end_pb
from hpsweep.training.callbacks._base import RunState, TrainingCallback
from hpsweep.training.monitor import Monitor


class TensorBoardLogger(TrainingCallback):
    """One TensorBoard run per training run, written into the run's output folder.

    - scalars each epoch: every metric of the epoch (train/loss, val/loss, val/acc,
      lr, time/epoch_seconds), `best/<monitor>`, the best value so far, and `epochs`;
    - one hparams session: the run's hyperparameters at fit start, so running trials
      show up in the HParams dashboard too, and its status at fit end;
    - flushed after every epoch, so a killed run keeps what it logged.
    """

    def __init__(self, monitor: str = "val/loss", mode: str = "min") -> None:
        self.monitor = Monitor(monitor, mode)
        self.writer: EventWriter | None = None

    def on_fit_start(self, run: RunState) -> None:
        self.writer = EventWriter(run.output_dir)
        # trial_id names the session group: one group per run (the sweep's job number),
        # even when two runs share every hyperparameter (repeated seeds would
        # otherwise be averaged into one row).
        self.writer.write(hp.hparams_pb(run.hparams, trial_id=run.output_dir.name))
        self.writer.flush()

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        assert self.writer is not None, "on_fit_start opens the writer"
        self.monitor.update(metrics.get(self.monitor.metric, math.nan))
        for tag, number in metrics.items():
            self.writer.write(scalar_pb(tag, number), step=run.epoch)
        if self.monitor.best is not None:
            best_tag = f"best/{self.monitor.metric}"
            self.writer.write(scalar_pb(best_tag, self.monitor.best), step=run.epoch)
        # Epochs trained so far: in the HParams table it tells early-stopped and
        # pruned runs (and how far running ones are) from complete ones.
        self.writer.write(scalar_pb("epochs", run.epoch), step=run.epoch)
        self.writer.flush()

    def on_fit_end(self, run: RunState, status: RunStatus) -> None:
        if self.writer is None:
            return
        self.writer.write(text_pb("status", f"{status} after {run.epoch} epochs"), step=run.epoch)
        self.writer.write(session_end_pb(status), step=run.epoch)
        self.writer.close()
        self.writer = None
