from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.plugins.scalar.summary_v2 import scalar_pb
from tensorboard.plugins.text.summary_v2 import text_pb

from hpsweep.sweep.outcome import TrialOutcome
from hpsweep.sweep.trial import SweepTrial
from hpsweep.tensorboard.events import EventWriter, session_end_pb
from hpsweep.tensorboard.experiment import RUNNING, STATUS, final_tag, load_experiment
from hpsweep.training.callbacks._base import RunState, TrainingCallback
from hpsweep.training.monitor import Monitor

# While the run trains, its HParams row comes from this sub-run (see on_fit_start).
RUNNING_RUN = "running"
EVENT_FILES = "events.out.tfevents.*"


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

    When the loop saves its state (training.resume), an epoch's scalars are held until
    the state that covers that epoch is saved: a run cut and re-launched continues its
    one TensorBoard run at the next step, and no step is ever written twice. A state
    saved just before a kill carries the scalars not yet written; the re-launched run
    writes those the files lack. A run that starts again from epoch 0 (nothing saved)
    removes the cut attempt's event files first: one run, each step once.

    TensorBoard reads a run's hparams once, from its first session summary, so the
    status word is written with them at the end. Until then the run's row in the
    HParams table comes from a provisional sub-run `<run>/running` that holds only its
    hparams with `status: running` (its metric cells stay empty: a running trial has
    no final values yet); it is deleted at the end, which TensorBoard's server notices
    and drops. A run killed outright (SIGKILL) keeps it: running, as far as anyone knows.

    A PBT member (hydra/sweeper=pbt) is one TensorBoard run across its segments' jobs,
    in the member's folder (`run.log_dir`): each segment continues the run at the step
    after the last (its state says which), writes its hyperparameters as `pbt/<key>`
    scalars every epoch and one `pbt/segment` text, and a segment that pauses
    (`run.paused`) writes no final values: the member's last segment does.
    """

    def __init__(self, monitor: str = "val/loss", mode: str = "min", flush_secs: float = 2.0):
        self.monitor = Monitor(monitor, mode)
        self.flush_secs = flush_secs
        self.writer: EventWriter | None = None
        self.started = 0.0
        # (epoch, scalars) not yet written: held until a saved state covers them.
        self.unwritten: list[tuple[int, dict[str, float]]] = []
        self.segment_scalars: dict[str, float] = {}  # a PBT segment's pbt/<key>

    def on_fit_start(self, run: RunState) -> None:
        if run.epoch == 0:  # a fresh run: a cut attempt's files, if any, go
            self.started = time.time()
            for old in logdir(run).glob(EVENT_FILES):
                old.unlink()
            shutil.rmtree(logdir(run) / RUNNING_RUN, ignore_errors=True)
        self.writer = EventWriter(logdir(run), self.flush_secs, max_queue_size=1024)
        self.segment_scalars = segment_scalars()
        if run.epoch == 0:
            experiment = sweep_experiment()
            if experiment is not None:
                self.writer.write(experiment)
        else:  # resumed: what the saved state holds beyond the files' last step
            on_disk = last_step_written(logdir(run))
            self.unwritten = [(step, s) for step, s in self.unwritten if step > on_disk]
            self.write_unwritten()
        trial = SweepTrial.current()
        if trial is not None and trial.segment and trial.segment.get("start") == run.epoch:
            self.writer.write(text_pb("pbt/segment", segment_text(trial)), step=run.epoch + 1)
        if not (logdir(run) / RUNNING_RUN).is_dir():
            provisional = EventWriter(logdir(run) / RUNNING_RUN)
            provisional.write(self.session(run, RUNNING))
            provisional.close()

    def session(self, run: RunState, status: str) -> Summary:
        # trial_id names the session group: one group per run (the sweep's job folder),
        # even when two runs share every hyperparameter (repeated seeds would
        # otherwise be averaged into one row).
        hparams = {**run.hparams, STATUS: status}
        return hp.hparams_pb(hparams, trial_id=logdir(run).name, start_time_secs=self.started)

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        assert self.writer is not None, "on_fit_start opens the writer"
        self.monitor.update(metrics.get(self.monitor.metric, math.nan))
        scalars = {**metrics, **self.segment_scalars}
        if self.monitor.best is not None:
            scalars[f"best/{self.monitor.metric}"] = self.monitor.best
        # Epochs trained so far: in the HParams table it tells early-stopped and
        # pruned runs (and how far running ones are) from complete ones.
        scalars["epochs"] = run.epoch
        self.unwritten.append((run.epoch, scalars))
        if not run.saves_state:
            self.write_unwritten()

    def on_state_saved(self, run: RunState) -> None:
        self.write_unwritten()
        assert self.writer is not None
        self.writer.flush()

    def write_unwritten(self) -> None:
        assert self.writer is not None, "on_fit_start opens the writer"
        for step, scalars in self.unwritten:
            self.writer.write_scalars(scalars, step=step)
        self.unwritten = []

    def state_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor.state_dict(),
            "started": self.started,
            "unwritten": list(self.unwritten),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state["monitor"])
        self.started = state["started"]
        self.unwritten = [(step, dict(scalars)) for step, scalars in state["unwritten"]]

    def on_train_end(self, run: RunState, outcome: TrialOutcome) -> None:
        """The final metrics and the session's status: the run's outcome, the same
        record metrics.json, the study and results.csv hold."""
        if self.writer is None:
            return
        if run.paused:  # a PBT segment: its member's next segment writes on after it
            self.write_unwritten()
        if run.interrupted or run.paused:
            # It will continue: no final values, no status yet (TensorBoard keeps a
            # run's first session summary). What its saved state covers is on disk.
            self.writer.close()
            self.writer = None
            return
        self.write_unwritten()
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
        shutil.rmtree(logdir(run) / RUNNING_RUN, ignore_errors=True)


def logdir(run: RunState) -> Path:
    """The run's TensorBoard folder: its own, or its PBT member's."""
    return run.log_dir or run.output_dir


def segment_scalars() -> dict[str, float]:
    """A PBT segment's numeric hyperparameters, as `pbt/<key>` scalars; {} otherwise."""
    trial = SweepTrial.current()
    if trial is None:
        return {}
    return {
        f"pbt/{key}": float(value)
        for key, value in trial.segment_params.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def segment_text(trial: SweepTrial) -> str:
    """One line on a PBT segment: its hyperparameters and whose state it continues."""
    segment = trial.segment or {}
    params = ", ".join(f"{key}={value}" for key, value in trial.segment_params.items())
    source = segment.get("exploited_from")
    origin = "its own state" if source is None else f"member {source}'s state (exploited)"
    return f"epochs to {trial.stop_at or 'the end'}: {params}; from {origin}"


def last_step_written(logdir: Path) -> int:
    """The last step of the scalars in a run's event files (0: none)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    steps = [
        event.step
        for path in logdir.glob(EVENT_FILES)
        for event in EventFileLoader(str(path)).Load()
        if event.HasField("summary")
    ]
    return max(steps, default=0)


def sweep_experiment() -> Summary | None:
    """The HParams columns of the sweep this job belongs to; None outside a sweep."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return load_experiment(Path(HydraConfig.get().sweep.dir))
