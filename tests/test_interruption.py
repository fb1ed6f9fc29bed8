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


# What a cut-off job left in its folder -> the one outcome its row, the study and its own
# record give, and whether the configuration is queued again (hpsweep.search.recording).
SIGTERM_REASON = "interrupted by SIGTERM"
CUT_OFF = [
    # (what the job left, status, reason, epochs, queued again)
    # killed outright (a joblib worker): the sweep says why
    (None, "failed", SIGTERM_REASON, "", True),
    # a Ray worker ends with SystemExit as the sweep shuts Ray down: that is the signal
    (
        TrialOutcome(RunStatus.FAILED, reason="SystemExit: 1", started=STARTED),
        "failed",
        SIGTERM_REASON,
        "",
        True,
    ),
    # the job saw the signal itself (in process): its record, epochs and all, stands
    (
        TrialOutcome(RunStatus.FAILED, reason=SIGTERM_REASON, epochs=7),
        "failed",
        SIGTERM_REASON,
        "7",
        True,
    ),
    # it ended just before the signal: it is what it was, in the study too, and done
    (TrialOutcome(RunStatus.COMPLETE, value=0.5, epochs=9), "complete", "", "9", False),
    (TrialOutcome(RunStatus.PRUNED, value=0.7, epochs=3, pruned_at=3), "pruned", "", "3", False),
]


@pytest.mark.parametrize(
    ("left", "status", "reason", "epochs", "queued"),
    CUT_OFF,
    ids=["killed", "ray-system-exit", "saw-the-signal", "complete-before", "pruned-before"],
)
def test_a_cut_off_job_has_one_outcome_in_its_row_the_study_and_its_record(
    tmp_path: Path,
    left: TrialOutcome | None,
    status: str,
    reason: str,
    epochs: str,
    queued: bool,
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
    requeued = recorder.record_interrupted(Configuration(trial, ["x=0.5"], [0]), Terminated())

    [row] = results(sweep)
    assert (row["status"], row["reason"], row["epochs"]) == (status, reason, epochs)
    told = study.trials[0]
    assert told.state == TrialState[RunStatus(status).study_state]
    assert told.user_attrs[STATUS_ATTR] == status
    recorded = TrialOutcome.read(job_dir)
    if recorded is not None:  # the job's own record agrees with its row
        assert (str(recorded.status), recorded.reason) == (status, reason)
    if left is not None and left.started:
        assert row["started"] == left.started
    # queued again exactly when it was cut: a waiting trial with the same parameters
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert requeued is queued
    queued_params = [t.system_attrs["fixed_params"] for t in waiting]
    assert queued_params == ([told.params] if queued else [])
