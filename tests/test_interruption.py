"""Signals in the sweep loop: raised at once while it waits, held while it writes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import optuna
import pytest
from omegaconf import OmegaConf
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from hpsweep.search.bookkeeping import STATUS_ATTR
from hpsweep.search.configuration import Configuration
from hpsweep.search.recording import SweepRecorder
from hpsweep.search.repeats import RepeatPlan
from hpsweep.sweep.channel import JOURNAL_FILE, register_job, register_job_dir
from hpsweep.sweep.interruption import DeferredInterrupts, Terminated, signal_of
from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hpsweep.sweep.storage import make_storage
from tests.sweep_files import results

STARTED = "2026-11-29T10:00:00+00:00"


@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)]
)
def test_a_signal_while_waiting_raises_at_once(signum: int, raised: type) -> None:
    interrupts = DeferredInterrupts()
    with interrupts.installed(), pytest.raises(raised), interrupts.allowed():
        os.kill(os.getpid(), signum)
        signal.sigtimedwait([], 0.5)  # let the handler run here, inside allowed()


@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")]
)
def test_a_signal_while_writing_waits_for_the_next_wait(signum: int, name: str) -> None:
    interrupts = DeferredInterrupts()
    with interrupts.installed():
        os.kill(os.getpid(), signum)  # "in the middle of a write": nothing raised
        written = True
        with pytest.raises(KeyboardInterrupt) as caught, interrupts.allowed():
            raise AssertionError("allowed() must raise the held signal before its block")
    assert written
    assert signal_of(caught.value)[0] == name


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with DeferredInterrupts().installed():
        pass
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


# What a cut-off job left in its folder -> what the sweep records now
# (hpsweep.search.recording): a job the signal cut is not recorded at all (its trial
# stays RUNNING, with no row, to continue from its saved state on resume); one that
# ended before the signal is recorded as it ended, in its row and the study alike.
SIGTERM_REASON = "interrupted by SIGTERM"
CUT_OFF = [
    # (what the job left, its row's (status, reason, epochs) or None if cut, its record)
    # killed outright (a joblib worker): nothing recorded, no record written
    (None, None, None),
    # a Ray worker ends with SystemExit as the sweep shuts Ray down: that is the signal
    (
        TrialOutcome(RunStatus.FAILED, reason="SystemExit: 1", started=STARTED),
        None,
        ("failed", SIGTERM_REASON),
    ),
    # the job saw the signal itself (in process): its record stands
    (
        TrialOutcome(RunStatus.FAILED, reason=SIGTERM_REASON, epochs=7),
        None,
        ("failed", SIGTERM_REASON),
    ),
    # it ended just before the signal: it is what it was, in the study too, and done
    (
        TrialOutcome(RunStatus.COMPLETE, value=0.5, epochs=9),
        ("complete", "", "9"),
        ("complete", ""),
    ),
    (
        TrialOutcome(RunStatus.PRUNED, value=0.7, epochs=3, pruned_at=3),
        ("pruned", "", "3"),
        ("pruned", ""),
    ),
]


@pytest.mark.parametrize(
    ("left", "row", "record"),
    CUT_OFF,
    ids=["killed", "ray-system-exit", "saw-the-signal", "complete-before", "pruned-before"],
)
def test_a_cut_off_job_stays_running_and_one_that_ended_is_recorded_once(
    tmp_path: Path,
    left: TrialOutcome | None,
    row: tuple[str, str, str] | None,
    record: tuple[str, str] | None,
) -> None:
    sweep, job_dir = tmp_path, tmp_path / "00"
    job_dir.mkdir()
    register_job(sweep, 0, 0, slot=0)
    register_job_dir(sweep, 0, job_dir)
    if left is not None:
        left.write(job_dir)
    config = OmegaConf.create(
        {
            "hydra": {
                "sweep": {"dir": str(sweep)},
                "overrides": {"task": ["x=interval(0,1)"]},
                "runtime": {"choices": {}},
                "sweeper": {},
            }
        }
    )
    study = optuna.create_study(storage=make_storage(str(sweep / JOURNAL_FILE)))
    trial = study.ask({"x": FloatDistribution(0, 1)})
    recorder = SweepRecorder(config, study, RepeatPlan())
    cut = recorder.record_interrupted(Configuration(trial, ["x=0.5"], [0]), Terminated())

    assert cut is (row is None)
    told = study.trials[0]
    recorded = TrialOutcome.read(job_dir)
    assert (None if recorded is None else (str(recorded.status), recorded.reason)) == record
    # nothing queued again: a cut trial continues as itself
    assert study.get_trials(states=(TrialState.WAITING,)) == []
    if row is None:
        assert results(sweep) == []
        assert told.state == TrialState.RUNNING
        assert STATUS_ATTR not in told.user_attrs
        return
    [written] = results(sweep)
    assert (written["status"], written["reason"], written["epochs"]) == row
    assert told.state == TrialState[RunStatus(row[0]).study_state]
    assert told.user_attrs[STATUS_ATTR] == row[0]
    if left is not None and left.started:
        assert written["started"] == left.started
