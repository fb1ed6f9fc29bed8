"""Signals in the sweep loop: raised at once while it waits, held while it writes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from hpsweep.sweep.channel import register_job, register_job_dir
from hpsweep.sweep.interruption import DeferredInterrupts, Terminated, signal_of
from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hydra_plugins.hpsweep_sweeper._recording import SweepRecorder
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


# What a cut-off job left in its folder -> the reason its row and its record give.
SIGTERM_REASON = "interrupted by SIGTERM"


@pytest.mark.parametrize(
    ("left", "reason", "epochs"),
    [
        (None, SIGTERM_REASON, ""),  # killed outright (a joblib worker): the sweep says why
        # a Ray worker ends with SystemExit as the sweep shuts Ray down: that is the signal
        (
            TrialOutcome(RunStatus.FAILED, reason="SystemExit: 1", started=STARTED),
            SIGTERM_REASON,
            "",
        ),
        # the job saw the signal itself (in process): its record, epochs and all, stands
        (TrialOutcome(RunStatus.FAILED, reason=SIGTERM_REASON, epochs=7), SIGTERM_REASON, "7"),
        # it ended just before the signal: it is what it was
        (TrialOutcome(RunStatus.COMPLETE, value=0.5, epochs=9), "", "9"),
    ],
)
def test_a_cut_off_jobs_row_says_why_it_stopped(
    tmp_path: Path, left: TrialOutcome | None, reason: str, epochs: str
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
    SweepRecorder(config, report=False).record_interrupted(0, ["x=0.5"], Terminated())
    [row] = results(sweep)
    assert (row["reason"], row["epochs"]) == (reason, epochs)
    if left is not None:  # the job's own record agrees with its row
        assert TrialOutcome.read(job_dir).reason == reason  # type: ignore[union-attr]
    if left is not None and left.started:
        assert row["started"] == left.started
