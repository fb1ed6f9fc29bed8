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
import torch
from optuna.trial import FrozenTrial
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hpsweep.sweep.channel import load_recorded_study, registered_jobs
from tests.conftest import TRAIN_PY
from tests.sweep_files import (
    assert_records_agree,
    epochs_logged,
    results,
    start_train,
    sweep_dir_of,
    wait_for_rows,
)
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
    # a pruner, so that every epoch's value is reported to the study; it prunes none
    # before its 100 startup trials, so that every trial runs all its epochs
    "hydra/sweeper/pruner=median",
    "hydra.sweeper.pruner.n_startup_trials=100",
    "hydra.sweeper.report=false",
)


def start_sweep(sweep: Path, cwd: Path) -> subprocess.Popen[str]:
    return start_train(*SLOW_SWEEP, f"hydra.sweep.dir={sweep}", cwd=cwd)


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
) -> Path:
    """Send `signum` mid-trial: the sweep exits with `exit_code` and says how to resume;
    the cut trial finishes its epoch, saves its state and stays RUNNING, with no row, its
    TensorBoard scalars flushed. Returns its job folder."""
    job_dir = running_trial(sweep, process)
    process.send_signal(signum)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == exit_code, output
    assert f"interrupted by {signum.name}" in output
    assert f"hydra.sweep.dir={sweep}" in output  # how to resume
    assert str(job_dir) not in {r["job_dir"] for r in assert_records_agree(sweep)}
    assert_cut(sweep, job_dir)
    return job_dir


def assert_cut(sweep: Path, job_dir: Path) -> None:
    """A cut trial: RUNNING in the study, its state saved in its own folder, and what it
    trained is in TensorBoard."""
    trial = study_trial_of(sweep, job_dir)
    assert trial.state.name == "RUNNING"
    assert (job_dir / "state" / "last.pt").is_file()
    events = EventAccumulator(str(job_dir))
    events.Reload()
    assert events.Tensors("val/loss")


def study_trial_of(sweep: Path, job_dir: Path) -> FrozenTrial:
    number = registered_jobs(sweep)[int(job_dir.name)]
    return load_recorded_study(sweep).trials[number]


def epochs_trained(job_dir: Path) -> list[int]:
    """Every epoch the job's log says it trained, across the sessions it ran in."""
    return epochs_logged((job_dir / "train.log").read_text(), EPOCHS)


@pytest.mark.long
def test_a_sweep_cut_by_sigterm_sigint_and_sigkill_resumes_each_time(tmp_path: Path) -> None:
    """One sampled sweep, cut three times and resumed each time (with the same command,
    the last time asking for one trial more): SIGTERM (exit 143) in its fourth trial,
    SIGINT (130) in the resumed session's first new one, SIGKILL (no handler runs) in the next
    session's first new one. Each cut trial continues in its own folder where it stopped: one
    row, one study trial with one curve, one TensorBoard run, each step once; the
    sampler continues its stream instead of replaying it."""
    sweep = tmp_path / "sweep"
    process = start_sweep(sweep, tmp_path)
    wait_for_rows(sweep, 3, process)
    cut = [interrupt(process, signal.SIGTERM, 143, sweep)]
    assert len(results(sweep)) == 3

    process = start_sweep(sweep, tmp_path)  # continues the cut trial first, then new ones
    wait_for_rows(sweep, 4, process)
    cut.append(interrupt(process, signal.SIGINT, 130, sweep))
    assert len(results(sweep)) == 4

    process = start_sweep(sweep, tmp_path)
    wait_for_rows(sweep, 5, process)
    killed = running_trial(sweep, process, epochs=4)
    wait_for_scalars(killed, process)
    process.kill()  # SIGKILL: no handler runs; the periodic save is what is left
    process.communicate(timeout=60)
    assert len(results(sweep)) == 5
    assert_cut(sweep, killed)
    before_kill = epochs_trained(killed)
    saved_at = torch.load(killed / "state" / "last.pt", weights_only=True)["step"]
    assert 1 <= saved_at <= before_kill[-1]

    # The last resume asks for one trial more than the search had: n_trials counts the
    # study's total, so it continues the killed trial and runs exactly one new one.
    more = [*SLOW_SWEEP, f"hydra.sweeper.n_trials={N_TRIALS + 1}", f"hydra.sweep.dir={sweep}"]
    result = run_train(*more, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = assert_records_agree(sweep)
    assert [r["status"] for r in rows] == ["complete"] * (N_TRIALS + 1)
    # no configuration ran twice: the resumed sampler did not replay its stream
    assert len({r["optimizer.lr"] for r in rows}) == N_TRIALS + 1
    study = load_recorded_study(sweep)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * (N_TRIALS + 1)
    all_epochs = list(range(1, EPOCHS + 1))
    for row in rows:
        job_dir = Path(row["job_dir"])
        # one curve in the study, one TensorBoard run, each step once
        assert sorted(study_trial_of(sweep, job_dir).intermediate_values) == all_epochs
        events = EventAccumulator(str(job_dir), size_guidance={"tensors": 0})  # all
        events.Reload()
        assert [e.step for e in events.Tensors("val/loss")] == all_epochs, row
        assert not (job_dir / "state").exists() or not any((job_dir / "state").iterdir())
    # SIGTERM and SIGINT lose nothing: each epoch trained once; SIGKILL loses what
    # came after the last periodic save (training.resume's cadence), nothing before it
    for job_dir in cut:
        assert epochs_trained(job_dir) == all_epochs
    after_resume = list(range(saved_at + 1, EPOCHS + 1))
    assert epochs_trained(killed) == before_kill + after_resume
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
