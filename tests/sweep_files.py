"""What a sweep leaves on disk, read back by the tests: its folder, results.csv, and the
one invariant every sweep test checks: all its records agree, trial by trial."""

from __future__ import annotations

import csv
import json
import math
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2, metadata

from hpsweep.report import load_sweep
from hpsweep.search.bookkeeping import JOB_ATTR, STATUS_ATTR
from hpsweep.sweep.channel import CHANNEL_FILE, recorded_study, registered_jobs
from hpsweep.sweep.outcome import FINISHED, RunStatus, TrialOutcome
from hpsweep.sweep.results import is_objective_column


def sweep_dir_of(cwd: Path) -> Path:
    """The one sweep folder `python train.py -m` made under cwd/multirun/<date>/."""
    [sweep] = (cwd / "multirun").glob("*/*")
    return sweep


def results(sweep: Path) -> list[dict[str, str]]:
    """The rows of the sweep's results.csv, in the order its trials ended."""
    with (sweep / "results.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def files_holding(root: Path, secret: str) -> list[Path]:
    """Every file under root whose bytes contain `secret` (what `grep -r` finds)."""
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def wait_for_rows(sweep: Path, count: int, process: subprocess.Popen[str]) -> None:
    """Until the running sweep's results.csv has `count` rows (at most 4 minutes)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        results_csv = sweep / "results.csv"
        if results_csv.exists() and len(results_csv.read_text().splitlines()) > count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the sweep never wrote {count} row(s); it exited {process.poll()}")


def epochs_logged(log: str, epochs: int) -> list[int]:
    """Every epoch train.py's log says it trained (`epoch  7/40  train/loss ...`), in the
    order it trained them, across the sessions it ran in."""
    return [int(n) for n in re.findall(rf"epoch +(\d+)/{epochs} ", log)]


def start_train(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """train.py with `args`, started in the background (to be signalled), its output
    (stdout and stderr together) read at the end."""
    from tests.conftest import TRAIN_PY

    return subprocess.Popen(
        [sys.executable, str(TRAIN_PY), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=interruptible,
    )


def interruptible() -> None:
    """In a child about to start: SIGINT's default action. A suite started in a
    script's background (bash ignores SIGINT there) hands the ignore down to its
    children, and a run that starts with SIGINT ignored rightly keeps it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_sweep_after_rows(
    command: list[str],
    cwd: Path,
    sweep: Path,
    rows: int,
    ready: Callable[[], bool] = lambda: True,
) -> str:
    """Start the sweep `command`, SIGTERM it once results.csv has `rows` rows and
    `ready()` holds; it must exit 143. Returns what it printed."""
    # Its output goes to a file, not a pipe: a pipe nobody reads until the end fills
    # at 64 KB (a few hundred epochs' log lines), and the sweep would block on it.
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, text=True
        )
        wait_for_rows(sweep, rows, process)
        deadline = time.monotonic() + 120
        while not ready():
            assert time.monotonic() < deadline and process.poll() is None, "never ready"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        output.seek(0)
        printed = output.read()
    assert process.returncode == 143, printed[-3000:]
    return printed


def assert_stopped(job_dirs: list[str], seconds: float = 1) -> None:
    """The jobs of these folders no longer run: their train.log stays the same size (a
    running job logs every epoch, tens of times a second)."""
    logs = [Path(job_dir) / "train.log" for job_dir in job_dirs]
    sizes = [log.stat().st_size if log.exists() else 0 for log in logs]
    time.sleep(seconds)
    assert sizes == [log.stat().st_size if log.exists() else 0 for log in logs], job_dirs


SESSION_STATUS = {
    "complete": api_pb2.STATUS_SUCCESS,
    "early_stopped": api_pb2.STATUS_SUCCESS,
    "pruned": api_pb2.STATUS_SUCCESS,
    "diverged": api_pb2.STATUS_FAILURE,
    "failed": api_pb2.STATUS_FAILURE,
}


def session_status(job_dir: Path) -> int | None:
    """The HParams session status TensorBoard reads from a job's events (None: no end)."""
    events = EventAccumulator(str(job_dir), size_guidance={"tensors": 0})
    events.Reload()
    if metadata.SESSION_END_INFO_TAG not in events.summary_metadata:
        return None
    content = events.SummaryMetadata(metadata.SESSION_END_INFO_TAG).plugin_data.content
    return metadata.parse_session_end_info_plugin_data(content).status


def assert_records_agree(sweep: Path, shared_study: bool = False) -> list[dict[str, str]]:
    """Every record of every trial says the same: results.csv's row, the job's outcome
    record (metrics.json), the Optuna study read back from its storage, TensorBoard's
    session status, and the report's reading. Returns the rows. `shared_study`: other
    sweep folders' processes joined the study, so it holds trials of theirs too. With
    repeats (a `values` column), a row is one configuration: its study trial is one, its
    jobs several, each with its own metrics.json and TensorBoard status
    (assert_repeats_agree)."""
    rows = results(sweep)
    assert rows, f"{sweep} has no results"
    numbers = [int(r["number"]) for r in rows]
    assert len(numbers) == len(set(numbers)), "a job folder was used twice"
    for row in rows:
        if "values" in row:  # hydra.sweeper.repeats > 1: the row is several jobs
            assert_repeats_agree(sweep, row)
            continue
        job_dir = Path(row["job_dir"])
        outcome = TrialOutcome.read(job_dir)
        if outcome is not None:  # a killed job wrote none; its row says failed
            assert str(outcome.status) == row["status"], row
            assert row["value"] == ("" if outcome.value is None else str(outcome.value))
            assert row["epochs"] == ("" if outcome.epochs is None else str(outcome.epochs))
        else:
            assert row["status"] == "failed", row
        if RunStatus(row["status"]) in (RunStatus.COMPLETE, RunStatus.EARLY_STOPPED):
            assert math.isfinite(float(row["value"])), row
        if RunStatus(row["status"]) in (RunStatus.DIVERGED, RunStatus.FAILED):
            assert row["value"] == "", row
        if any(job_dir.glob("events.out.tfevents.*")):
            status = session_status(job_dir)
            assert status in (None, SESSION_STATUS[row["status"]]), (row, status)

    reported = {t.number: t.status for t in load_sweep(sweep).trials}
    assert reported == {int(r["number"]): r["status"] for r in rows}

    if (sweep / CHANNEL_FILE).is_file():  # an hpsweep sweep: its study agrees too
        with recorded_study(sweep) as study:
            trials = study.trials
        jobs = registered_jobs(sweep)
        by_number = {t.number: t for t in trials}
        for row in rows:
            trial = by_number[jobs[int(row["number"])]]
            expected = RunStatus(row["status"]).study_state
            assert trial.state.name == expected, (row["number"], row["status"], trial.state)
            assert trial.user_attrs[STATUS_ATTR] == row["status"]
            assert trial.user_attrs[JOB_ATTR] == int(row["number"])
            if expected == "COMPLETE" and "pareto" in row:  # several objectives
                names = [c for c in row if is_objective_column(c)]
                assert trial.values == [float(row[name]) for name in names], row
                assert trial.values[0] == float(row["value"])
            elif expected == "COMPLETE":
                assert trial.value == pytest.approx(float(row["value"]), rel=1e-12)
        told = [t for t in trials if STATUS_ATTR in t.user_attrs]
        own = set(jobs.values())  # the trials this folder's jobs ran
        if not shared_study:  # then every trial the study was told of is one of them
            assert {t.number for t in told} <= own, "the study holds a trial of no job here"
        ran = {t.user_attrs[JOB_ATTR] for t in told if t.number in own}
        assert ran == set(numbers), "the study and results.csv list different jobs"
    return rows


def repeat_outcomes(sweep: Path, row: dict[str, str]) -> list[TrialOutcome | None]:
    """The outcome records of the jobs of a row with repeats, in repeat order: the jobs
    the registry maps to the row's trial (its first job's)."""
    jobs = registered_jobs(sweep)
    trial = jobs[int(row["number"])]
    mine = sorted(job for job, t in jobs.items() if t == trial)
    outcomes = []
    for job in mine:
        entry = json.loads((sweep / ".hpsweep" / "jobs" / f"{job}.json").read_text())
        assert entry["repeat"] == len(outcomes), entry
        if not outcomes and "job_dir" in entry:  # the row is its first repeat's job
            assert row["job_dir"] == entry["job_dir"], (row, entry)
        job_dir = Path(entry["job_dir"]) if "job_dir" in entry else None
        outcomes.append(TrialOutcome.read(job_dir) if job_dir else None)
        if job_dir is not None and any(job_dir.glob("events.out.tfevents.*")):
            recorded = outcomes[-1]
            word = str(recorded.status) if recorded else "failed"
            assert session_status(job_dir) in (None, SESSION_STATUS[word]), (job_dir, word)
    return outcomes


def assert_repeats_agree(sweep: Path, row: dict[str, str]) -> None:
    """A row that aggregates a configuration's repeats: its values are the repeats'
    metrics.json values; value their mean (over the finished ones, or over all with a
    value when pruned), value_sd their sd, repeats how many finished."""
    outcomes = repeat_outcomes(sweep, row)
    per_repeat = ["" if o is None or o.value is None else repr(o.value) for o in outcomes]
    if row["reason"].startswith("interrupted"):
        assert row["status"] == "failed", row
        return
    assert row["values"].split(";") == per_repeat, (row, per_repeat)
    finished = [o for o in outcomes if o is not None and o.status in FINISHED]
    assert row["repeats"] == str(len(finished) if row["status"] != "pruned" else 0), row
    if row["status"] == "pruned":
        assert any(o is not None and o.status == RunStatus.PRUNED for o in outcomes), row
        counted = [o.value for o in outcomes if o is not None and o.value is not None]
    else:
        counted = [o.value for o in finished if o.value is not None]
    if row["status"] in ("complete", "early_stopped", "pruned"):
        assert float(row["value"]) == pytest.approx(statistics.fmean(counted), rel=1e-12)
        if len(counted) > 1:
            assert float(row["value_sd"]) == pytest.approx(statistics.stdev(counted), rel=1e-9)
    else:
        assert row["value"] == "", row
    epochs = [o.epochs for o in outcomes if o is not None and o.epochs is not None]
    assert row["epochs"] == (str(max(epochs)) if epochs else ""), row


def outcome_records(sweep: Path) -> dict[int, dict]:
    """job number -> the job's metrics.json, for every row of results.csv."""
    records = {}
    for row in results(sweep):
        path = Path(row["job_dir"]) / "metrics.json"
        if path.is_file():
            records[int(row["number"])] = json.loads(path.read_text())
    return records
