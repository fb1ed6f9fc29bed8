from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.plugins.scalar.summary_v2 import scalar_pb
from tensorboard.plugins.text.summary_v2 import text_pb

from hpsweep.sweep.outcome import TrialOutcome
from hpsweep.tensorboard.events import EventWriter, merged, session_end_pb
from hpsweep.tensorboard.experiment import RUNNING, STATUS, final_tag, load_experiment
from hpsweep.training.callbacks._base import RunState, TrainingCallback
from hpsweep.training.monitor import Monitor

# While the run trains, its HParams row comes from this sub-run (see on_fit_start).
RUNNING_RUN = "running"


class TensorBoardLogger(TrainingCallback):
    """One TensorBoard run per training run, written into the run's output folder.

    - scalars each epoch: every metric of the epoch (train/loss, val/loss, val/acc,
      lr, time/epoch_seconds), `best/<monitor>`, the best value so far, and `epochs`;
    - at the end, the final metrics as `final/<metric>` (val/loss of the final model:
      the objective, what metrics.json and results.csv hold) and one hparams session:
      the run's hyperparameters with its `status` word, and the session's end;
    - the sweep's HParams columns (hpsweep.tensorboard.experiment), at fit start.

    Events are queued and written by TensorBoard's writer thread, flushed every
    `flush_secs` seconds and at the end rather than after every epoch: a running run
    shows within seconds, and the training loop never waits on the disk.

    TensorBoard reads a run's hparams once, from its first session summary, so the
    status word is written with them at the end. Until then the run's row in the
    HParams table comes from a provisional sub-run `<run>/running` that holds only its
    hparams with `status: running` (its metric cells stay empty: a running trial has
    no final values yet); it is deleted at the end, which TensorBoard's server notices
    and drops. A run killed outright (SIGKILL) keeps it: running, as far as anyone knows.
    """

    def __init__(self, monitor: str = "val/loss", mode: str = "min", flush_secs: float = 2.0):
        self.monitor = Monitor(monitor, mode)
        self.flush_secs = flush_secs
        self.writer: EventWriter | None = None
        self.started = 0.0

    def on_fit_start(self, run: RunState) -> None:
        self.started = time.time()
        self.writer = EventWriter(run.output_dir, self.flush_secs, max_queue_size=1024)
        experiment = sweep_experiment()
        if experiment is not None:
            self.writer.write(experiment)
        provisional = EventWriter(run.output_dir / RUNNING_RUN)
        provisional.write(self.session(run, RUNNING))
        provisional.close()

    def session(self, run: RunState, status: str) -> Summary:
        # trial_id names the session group: one group per run (the sweep's job folder),
        # even when two runs share every hyperparameter (repeated seeds would
        # otherwise be averaged into one row).
        hparams = {**run.hparams, STATUS: status}
        return hp.hparams_pb(hparams, trial_id=run.output_dir.name, start_time_secs=self.started)

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        assert self.writer is not None, "on_fit_start opens the writer"
        self.monitor.update(metrics.get(self.monitor.metric, math.nan))
        scalars = [scalar_pb(tag, number) for tag, number in metrics.items()]
        if self.monitor.best is not None:
            scalars.append(scalar_pb(f"best/{self.monitor.metric}", self.monitor.best))
        # Epochs trained so far: in the HParams table it tells early-stopped and
        # pruned runs (and how far running ones are) from complete ones.
        scalars.append(scalar_pb("epochs", run.epoch))
        self.writer.write(merged(scalars), step=run.epoch)

    def on_train_end(self, run: RunState, outcome: TrialOutcome) -> None:
        """The final metrics and the session's status: the run's outcome, the same
        record metrics.json, the study and results.csv hold."""
        if self.writer is None:
            return
        status = outcome.status
        for name, value in outcome.metrics.items():
            if "/" in name and not name.startswith("best/") and isinstance(value, float):
                self.writer.write(scalar_pb(final_tag(name), value), step=run.epoch)
        self.writer.write(text_pb("status", f"{status} after {run.epoch} epochs"), step=run.epoch)
        self.writer.write(self.session(run, str(status)), step=run.epoch)
        self.writer.write(session_end_pb(status), step=run.epoch)
        self.writer.close()
        self.writer = None
        # The run's own session is on disk: the provisional row goes.
        shutil.rmtree(run.output_dir / RUNNING_RUN, ignore_errors=True)


def sweep_experiment() -> Summary | None:
    """The HParams columns of the sweep this job belongs to; None outside a sweep."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return load_experiment(Path(HydraConfig.get().sweep.dir))
