"""Nothing lost: failed trials, signals, a killed sweep resumed, colliding start times.

Real subprocesses and real signals: a sampled sweep is started with Popen, cut mid-trial
by SIGTERM, SIGINT and SIGKILL in turn, and resumed each time (the last time asking for
one trial more); every record must agree and every configuration run exactly once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hpsweep.search.bookkeeping import REQUEUED_ATTR
from hpsweep.sweep.channel import load_recorded_study
from tests.conftest import TRAIN_PY
from tests.sweep_files import assert_records_agree, results, sweep_dir_of, wait_for_rows
from tests.test_cli import run_train

# A seeded random search of 6 trials of about half a second each on digits: long
# enough to be caught mid-trial, and sampled, so that a resume must continue the
# sampler's stream instead of replaying it.
N_TRIALS = 6
EPOCHS = 12
SLOW_SWEEP = (
    "-m",
    "hydra/sweeper=random",
    "optimizer.lr=tag(log,interval(1e-4,1e-1))",
    f"hydra.sweeper.n_trials={N_TRIALS}",
    "hydra.sweeper.seed=0",
    f"trainer.epochs={EPOCHS}",
    "~callbacks.early_stopping",
    "hydra.sweeper.report=false",
)


def start_sweep(sweep: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(TRAIN_PY), *SLOW_SWEEP, f"hydra.sweep.dir={sweep}"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def running_trial(sweep: Path, process: subprocess.Popen[str], epochs: int = 2) -> Path:
    """The job folder of the trial now training, once its log shows `epochs` epochs: the
    job has written scalars and is mid-training, not between trials."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        for job_dir in sorted(sweep.glob("[0-9]*")):
            log = job_dir / "train.log"
            if (job_dir / "metrics.json").exists() or not log.exists():
                continue
            if f"epoch {epochs:2d}/{EPOCHS}" in log.read_text():
                return job_dir
        time.sleep(0.05)
    raise AssertionError(f"no trial of {sweep} reached epoch {epochs}; exit {process.poll()}")


def wait_for_scalars(job_dir: Path, process: subprocess.Popen[str]) -> None:
    """Until TensorBoard's reader finds the running job's val/loss: a running trial shows."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(job_dir.glob("events.out.tfevents.*")):
            events = EventAccumulator(str(job_dir))
            events.Reload()
            if "val/loss" in events.Tags()["tensors"]:
                return
        time.sleep(0.1)
    raise AssertionError(f"{job_dir}'s scalars never reached TensorBoard")


def interrupt(
    process: subprocess.Popen[str], signum: signal.Signals, exit_code: int, sweep: Path
) -> None:
    """Send `signum` mid-trial: the sweep exits with `exit_code`, says how to resume, and
    records the cut-off trial as failed, its TensorBoard events flushed."""
    job_dir = running_trial(sweep, process)
    process.send_signal(signum)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == exit_code, output
    assert f"interrupted by {signum.name}" in output
    assert f"hydra.sweep.dir={sweep}" in output  # how to resume
    [cut] = [r for r in assert_records_agree(sweep) if r["job_dir"] == str(job_dir)]
    assert (cut["status"], cut["reason"]) == ("failed", f"interrupted by {signum.name}")
    events = EventAccumulator(cut["job_dir"])
    events.Reload()
    assert events.Tensors("val/loss")


@pytest.mark.long
def test_a_sweep_cut_by_sigterm_sigint_and_sigkill_resumes_each_time(tmp_path: Path) -> None:
    """One sampled sweep, cut three times and resumed each time (with the same command,
    the last time asking for one trial more): SIGTERM (exit 143) in its fourth trial,
    SIGINT (130) in the resumed session's second, SIGKILL (no handler runs) in the next
    session's second. Each cut trial is recorded failed and its configuration re-run
    exactly once; the sampler continues its stream instead of replaying it."""
    sweep = tmp_path / "sweep"
    process = start_sweep(sweep, tmp_path)
    wait_for_rows(sweep, 3, process)
    interrupt(process, signal.SIGTERM, 143, sweep)
    assert len(results(sweep)) == 4

    process = start_sweep(sweep, tmp_path)  # re-runs the cut trial first, then a new one
    wait_for_rows(sweep, 5, process)
    interrupt(process, signal.SIGINT, 130, sweep)
    assert len(results(sweep)) == 6

    process = start_sweep(sweep, tmp_path)
    wait_for_rows(sweep, 7, process)
    killed_dir = running_trial(sweep, process)
    wait_for_scalars(killed_dir, process)
    process.kill()  # SIGKILL: the trial stays RUNNING in the study and writes no row
    process.communicate(timeout=60)
    assert len(results(sweep)) == 7
    # what the killed trial logged before it died is still there for TensorBoard
    events = EventAccumulator(str(killed_dir))
    events.Reload()
    assert events.Tensors("val/loss")

    # The last resume asks for one trial more than the search had: n_trials counts the
    # study's total, so it re-runs the killed configuration and exactly one new one.
    more = [*SLOW_SWEEP, f"hydra.sweeper.n_trials={N_TRIALS + 1}", f"hydra.sweep.dir={sweep}"]
    result = run_train(*more, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = assert_records_agree(sweep)
    finished = [r for r in rows if r["status"] == "complete"]
    # no configuration ran twice: the resumed sampler did not replay its stream
    assert len(finished) == len({r["optimizer.lr"] for r in finished}) == N_TRIALS + 1
    # three cut trials (the killed one found RUNNING on resume and failed), each one's
    # configuration queued again once, and that re-run completed
    study = load_recorded_study(sweep)
    cut = [t for t in study.trials if t.state.name == "FAIL"]
    assert len(cut) == 3
    for trial in cut:
        [rerun] = [t for t in study.trials if t.user_attrs.get(REQUEUED_ATTR) == trial.number]
        assert rerun.params == trial.params
        assert rerun.state.name == "COMPLETE"
    assert (sweep / "best.yaml").is_file()
    assert list(sweep.glob("*.png")) == []  # hydra.sweeper.report=false: no report drawn


IMPOSSIBLE_WIDTH = "1000000000000"  # a 64 x 1e12 weight: the allocation fails at once


@pytest.mark.long
def test_failed_trials_are_rows_and_the_sweep_goes_on(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        f"model.width=16,{IMPOSSIBLE_WIDTH},32",
        "hydra.sweeper.max_failure_rate=0.5",
        "hydra.sweeper.report=false",
        "data=synthetic",
        "trainer.epochs=2",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sweep = sweep_dir_of(tmp_path)
    statuses = {r["model.width"]: (r["status"], r["reason"]) for r in assert_records_agree(sweep)}
    assert statuses["16"][0] == statuses["32"][0] == "complete"
    status, reason = statuses[IMPOSSIBLE_WIDTH]
    assert status == "failed"
    assert "allocate" in reason
    # the traceback is in the failed job's own log
    [failed] = [r for r in results(sweep) if r["status"] == "failed"]
    assert "Traceback" in (Path(failed["job_dir"]) / "train.log").read_text()


def test_every_trial_failing_is_one_clear_error(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        f"model.width={IMPOSSIBLE_WIDTH},{IMPOSSIBLE_WIDTH}0",
        "data=synthetic",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "no completed trials" in result.stdout
    [journal] = (tmp_path / "multirun").glob("*/*/optuna-journal.log")
    assert journal.stat().st_size > 0  # the study is intact


def test_diverged_trials_never_become_best(tmp_path: Path) -> None:
    # gamma=1000 multiplies the learning rate by 1000 after two good epochs: the run
    # improves, then its loss becomes NaN. Early stopping restores the good epoch's
    # weights, but a diverged run is never a value: not in results.csv, not in the study.
    result = run_train(
        "-m",
        "optimizer=sgd",
        "optimizer.lr=0.05",
        "scheduler=step",
        "scheduler.step_size=2",
        "scheduler.gamma=1000,0.5",
        "data=synthetic",
        "trainer.epochs=4",
        "hydra.sweeper.report=false",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    rows = {r["scheduler.gamma"]: r for r in assert_records_agree(sweep)}
    assert {gamma: r["status"] for gamma, r in rows.items()} == {
        "1000": "diverged",
        "0.5": "complete",
    }
    assert rows["1000"]["value"] == ""
    assert "gamma: 0.5" in (sweep / "best.yaml").read_text()
    study = load_recorded_study(sweep)
    assert sorted(t.state.name for t in study.trials) == ["COMPLETE", "FAIL"]


def test_two_sweeps_started_together_get_two_folders(tmp_path: Path) -> None:
    # The default folder pattern, started twice at once: even within one second (the
    # pattern's finest time part) the sweeps never share a folder.
    command = [
        *(sys.executable, str(TRAIN_PY), "-m", "optimizer.lr=0.001", "data=synthetic"),
        *("trainer.epochs=1", "hydra.sweeper.report=false"),
    ]
    processes = [subprocess.Popen(command, cwd=tmp_path) for _ in range(2)]
    assert [p.wait(timeout=120) for p in processes] == [0, 0]
    folders = list((tmp_path / "multirun").glob("*/*"))
    assert len(folders) == 2
    for folder in folders:
        assert len(assert_records_agree(folder)) == 1
