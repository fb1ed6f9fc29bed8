"""No batch barrier: n_jobs trials in flight, a slot refilled the moment a trial ends,
on Hydra's own launchers; stopped cleanly by a signal, workers included."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.launcher import Launcher
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hpsweep.search.dispatch import Dispatcher, Job
from hpsweep.sweep.channel import recorded_study, registered_jobs, registered_pid
from hpsweep.sweep.outcome import TrialOutcome
from hpsweep.training import resolve_device
from tests.conftest import TRAIN_PY
from tests.sweep_files import (
    assert_records_agree,
    assert_stopped,
    epochs_logged,
    results,
    start_train,
    stop_sweep_after_rows,
    sweep_dir_of,
)
from tests.test_cli import run_train
from tests.test_report import png_size, report_here


class SleepingLauncher(Launcher):
    """A launcher whose job `["0.3"]` sleeps 0.3 s: a real Launcher, so the dispatcher
    meets the same interface (one batch in, one JobReturn per job out) as Hydra's."""

    def __init__(self) -> None:
        self.started: list[tuple[int, float]] = []

    def setup(self, **kwargs: Any) -> None: ...

    def launch(self, job_overrides: Any, initial_job_idx: int) -> list[JobReturn]:
        self.started.append((initial_job_idx, time.monotonic()))
        time.sleep(float(job_overrides[0][0]))
        ret = JobReturn()
        ret.status, ret.return_value = JobStatus.COMPLETED, float(job_overrides[0][0])
        return [ret]


def run_all(durations: list[float], slots: int, barrier: bool) -> tuple[list[int], float]:
    """Dispatch jobs of these durations as the sweep loop does; (end order, wall time)."""
    launcher = SleepingLauncher()
    dispatcher = Dispatcher(launcher, slots, barrier=barrier)
    queue = list(enumerate(durations))
    ended: list[int] = []
    began = time.monotonic()
    while queue or dispatcher.busy:
        for slot in dispatcher.free_slots():
            if queue:
                number, seconds = queue.pop(0)
                dispatcher.start(Job(number, [str(seconds)], slot, trial=None))
        ended += [job.number for job, _ in dispatcher.wait_any()]
    return ended, time.monotonic() - began


def test_a_free_slot_is_refilled_at_once() -> None:
    # one long job and four short ones on two slots: the short ones all pass the long one
    ended, wall = run_all([1.0, 0.1, 0.1, 0.1, 0.1], slots=2, barrier=False)
    assert ended == [1, 2, 3, 4, 0]
    assert wall < 1.35  # the long job alone sets the pace


def test_a_barrier_waits_for_the_whole_batch() -> None:
    ended, wall = run_all([1.0, 0.1, 0.1, 0.1, 0.1], slots=2, barrier=True)
    assert ended == [0, 1, 2, 3, 4]
    assert wall > 1.2  # the first batch's long job held up the rest


@pytest.mark.parametrize(
    ("slot", "devices", "expected"),
    [(None, 2, "cuda:0"), (0, 2, "cuda:0"), (1, 2, "cuda:1"), (2, 2, "cuda:0"), (3, 4, "cuda:3")],
)
def test_each_slot_trains_on_its_own_gpu(
    slot: int | None, devices: int, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    # No GPU here: torch's own answers are faked; the choice made on them is under test.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: devices)
    device = resolve_device("auto", slot)
    assert f"{device.type}:{device.index or 0}" == expected


def timestamps(row: dict[str, str]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(row["started"]), datetime.fromisoformat(row["finished"])


JOBLIB = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2")


@pytest.mark.long
def test_short_trials_run_while_a_long_one_runs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = run_train(
        "-m",
        *JOBLIB,
        "trainer.epochs=600,1,1,1",
        "~callbacks.early_stopping",
        "data=synthetic",
        "hydra.sweeper.report=false",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {r["trainer.epochs"]: r for r in assert_records_agree(sweep_dir_of(tmp_path))}
    long_started, long_finished = timestamps(rows.pop("600"))
    shorts = [timestamps(r) for r in results(sweep_dir_of(tmp_path)) if r["epochs"] == "1"]
    # with a batch barrier only the first short trial could run beside the long one
    inside = [s for s, f in shorts if long_started < s and f < long_finished]
    assert len(inside) >= 2, (long_started, long_finished, shorts)
    # the report's timeline draws it: one bar per trial, from start to end
    shown = report_here(sweep_dir_of(tmp_path), capfd, "--top", "1")
    assert shown.returncode == 0, shown.stderr
    width, height = png_size(sweep_dir_of(tmp_path) / "timeline.png")
    assert width >= 600 and height >= 150


@pytest.mark.long
def test_interrupting_a_joblib_sweep_stops_its_workers_and_resumes(tmp_path: Path) -> None:
    # ~4 s a trial: signalled before half-way, a trial is still running when its worker
    # is ended (the sweep acts on a signal when it next waits, and on a loaded machine
    # launching the next job can take the time of 40 epochs)
    sweep, epochs = tmp_path / "sweep", 300
    command = [
        *(sys.executable, str(TRAIN_PY), "-m", *JOBLIB, "hydra/sweeper=random"),
        *("optimizer.lr=tag(log,interval(1e-4,1e-1))", "hydra.sweeper.n_trials=4"),
        *(f"trainer.epochs={epochs}", "~callbacks.early_stopping", "hydra.sweeper.report=false"),
        f"hydra.sweep.dir={sweep}",
    ]
    stop_sweep_after_rows(
        command, tmp_path, sweep, rows=1, ready=lambda: far_from_done(sweep, epochs)
    )

    rows = assert_records_agree(sweep)
    recorded = {r["job_dir"] for r in rows}
    cut = [d for d in sweep.glob("[0-9]*") if d.is_dir() and str(d) not in recorded]
    assert cut, rows
    # The workers were ended with the sweep: a cut job's folder stops changing, after
    # the job finished its epoch and saved its state there.
    assert_stopped([str(d) for d in cut])
    for job_dir in cut:
        record = TrialOutcome.read(job_dir)  # the job's own word: cut, not failed
        # its state, if it had trained an epoch (a job just starting had none to save)
        trained = re.search(rf"epoch +1/{epochs} ", read_log(job_dir))
        assert (job_dir / "state" / "last.pt").is_file() is bool(trained)
        # A job whose worker was ended before the job began (Hydra still setting it
        # up: a window a loaded machine widens) leaves no record; it trained nothing.
        assert (record is None and not trained) or (
            record is not None and record.reason == "interrupted by SIGTERM"
        ), (job_dir, record)
    with recorded_study(sweep) as study:
        running = [t.number for t in study.trials if t.state.name == "RUNNING"]
    # every trial without a row stays RUNNING: those cut, and any whose job a worker
    # had not begun yet
    unrecorded = {t for n, t in registered_jobs(sweep).items() if n not in recorded_numbers(rows)}
    assert sorted(running) == sorted(unrecorded)

    resumed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    rows = assert_records_agree(sweep)
    finished = [r for r in rows if r["status"] == "complete"]
    assert len(finished) == len(rows) == 4
    assert len({r["optimizer.lr"] for r in finished}) == 4  # every configuration once
    # each cut job continued in its own folder, and trained each epoch once
    assert {str(d) for d in cut} <= {r["job_dir"] for r in rows}
    for job_dir in cut:
        trained = sorted(epochs_logged(read_log(job_dir), epochs))
        assert trained == list(range(1, epochs + 1))


def far_from_done(sweep: Path, epochs: int) -> bool:
    """Every job without a row has trained under half its epochs: none can finish
    between the signal and its worker's end (trials started together end together, and
    a trial that ended there would be complete, not cut)."""
    recorded = {r["job_dir"] for r in results(sweep)}
    unrecorded = [d for d in sweep.glob("[0-9]*") if d.is_dir() and str(d) not in recorded]
    return all(max(epochs_logged(read_log(d), epochs), default=0) < epochs // 2 for d in unrecorded)


def recorded_numbers(rows: list[dict[str, str]]) -> set[int]:
    return {int(r["number"]) for r in rows}


@pytest.mark.long
def test_a_job_whose_worker_is_killed_continues_from_its_last_save(tmp_path: Path) -> None:
    """kill -9 of one joblib worker mid-trial: joblib ends its pool, so both jobs in
    flight lose their workers; each is launched again into its own folder and continues
    from its last save, and the sweep ends with every trial complete, its curve and
    TensorBoard run whole, and the killed trial's value that of a run never cut."""
    sweep, epochs = tmp_path / "sweep", 100
    overrides = [
        *("hydra/sweeper=random", "optimizer.lr=tag(log,interval(1e-4,1e-1))"),
        *("hydra.sweeper.n_trials=2", "hydra/sweeper/pruner=median"),
        *("hydra.sweeper.pruner.n_startup_trials=100", "~callbacks.early_stopping"),
        *(f"trainer.epochs={epochs}", "hydra.sweeper.report=false"),
    ]
    process = start_train("-m", *JOBLIB, *overrides, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    job_dir = sweep / "00"
    deadline = time.monotonic() + 120
    while not re.search(rf"epoch +30/{epochs} ", read_log(job_dir)):
        assert time.monotonic() < deadline and process.poll() is None, read_log(job_dir)
        time.sleep(0.02)
    os.kill(registered_pid(sweep, 0), signal.SIGKILL)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-3000:]
    assert "job 0: its launch failed (TerminatedWorkerError" in output

    rows = assert_records_agree(sweep)
    assert [r["status"] for r in rows] == ["complete", "complete"]
    all_epochs = list(range(1, epochs + 1))
    with recorded_study(sweep) as study:
        for trial in study.trials:
            assert sorted(trial.intermediate_values) == all_epochs  # one curve each
    for row in rows:
        events = EventAccumulator(row["job_dir"], size_guidance={"tensors": 0})
        events.Reload()
        assert [e.step for e in events.Tensors("val/loss")] == all_epochs  # each step once
    # it trained up to the kill, then from the epoch after its last save to the end
    before, resumed = read_log(job_dir).split("resumed from ")
    saved_at = int(re.match(r"\S+: epoch (\d+) done", resumed)[1])
    trained = epochs_logged(before, epochs)
    assert 1 <= saved_at <= trained[-1] < epochs and trained == all_epochs[: len(trained)]
    assert epochs_logged(resumed, epochs) == list(range(saved_at + 1, epochs + 1))
    [killed] = [r for r in rows if r["job_dir"] == str(job_dir)]
    never_cut = run_train(
        f"optimizer.lr={killed['optimizer.lr']}",
        *("~callbacks.early_stopping", f"trainer.epochs={epochs}"),
        f"hydra.run.dir={tmp_path / 'never-cut'}",
        cwd=tmp_path,
    )
    assert never_cut.returncode == 0, never_cut.stderr
    expected = json.loads((tmp_path / "never-cut" / "metrics.json").read_text())["value"]
    assert float(killed["value"]) == pytest.approx(expected, abs=1e-6)


def read_log(job_dir: Path) -> str:
    log = job_dir / "train.log"
    return log.read_text() if log.exists() else ""
