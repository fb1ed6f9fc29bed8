"""The trial outcome record: made from what a task returned or raised, by table, and
read back as written."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hpsweep.sweep.interruption import Terminated
from hpsweep.sweep.outcome import RunStatus, TrialOutcome


@pytest.mark.parametrize(
    ("returned", "pruned_at", "status", "value"),
    [
        (0.5, None, RunStatus.COMPLETE, 0.5),
        (2, None, RunStatus.COMPLETE, 2.0),
        (0.5, 3, RunStatus.PRUNED, 0.5),
        (math.nan, None, RunStatus.DIVERGED, None),
        (math.inf, 3, RunStatus.DIVERGED, None),  # never a value, pruned or not
        (None, None, RunStatus.FAILED, None),
        (True, None, RunStatus.FAILED, None),
        ("0.5", None, RunStatus.FAILED, None),
    ],
)
def test_outcome_of_a_return_value(
    returned: object, pruned_at: int | None, status: RunStatus, value: float | None
) -> None:
    outcome = TrialOutcome.of_return(returned, pruned_at=pruned_at)
    assert (outcome.status, outcome.value) == (status, value)
    if status == RunStatus.FAILED:
        assert outcome.reason.startswith(f"the task function returned {returned!r}")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (MemoryError("cannot allocate"), "MemoryError: cannot allocate"),
        (ValueError("first line\nsecond"), "ValueError: first line"),
        (KeyboardInterrupt(), "interrupted by SIGINT"),
        (Terminated(), "interrupted by SIGTERM"),
    ],
)
def test_outcome_of_an_error(error: BaseException, reason: str) -> None:
    outcome = TrialOutcome.of_error(error)
    assert (outcome.status, outcome.reason, outcome.value) == (RunStatus.FAILED, reason, None)


@pytest.mark.parametrize(
    ("status", "study_state"),
    [
        (RunStatus.COMPLETE, "COMPLETE"),
        (RunStatus.EARLY_STOPPED, "COMPLETE"),
        (RunStatus.PRUNED, "PRUNED"),
        (RunStatus.DIVERGED, "FAIL"),
        (RunStatus.FAILED, "FAIL"),
    ],
)
def test_every_status_has_one_study_state(status: RunStatus, study_state: str) -> None:
    assert status.study_state == study_state


@pytest.mark.parametrize(
    ("status", "value"),
    [(RunStatus.DIVERGED, 0.5), (RunStatus.FAILED, 0.5), (RunStatus.COMPLETE, None)],
)
def test_a_record_that_contradicts_itself_is_refused(status: RunStatus, value: float) -> None:
    with pytest.raises(ValueError):
        TrialOutcome(status, value)


def test_written_and_read_back(tmp_path: Path) -> None:
    outcome = TrialOutcome(
        RunStatus.PRUNED,
        0.41,
        epochs=3,
        seconds=1.5,
        pruned_at=3,
        started="2026-11-29T06:30:00+00:00",
        finished="2026-11-29T06:30:02+00:00",
        metrics={"val/acc": 0.88},
    )
    outcome.write(tmp_path)
    assert TrialOutcome.read(tmp_path) == outcome
    assert TrialOutcome.read(tmp_path / "nothing") is None
