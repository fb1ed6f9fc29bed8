"""How a trial ended: one typed record, written once by the job, read by everyone else.

The job writes its `TrialOutcome` into its own folder as `metrics.json`; the sweeper
tells the Optuna study from it, results.csv takes its row from it, TensorBoard's
session status comes from the same `RunStatus`, and `hpsweep report` reads results.csv.
Nothing downstream re-derives a status from a value or an attribute, so they agree.

    status          study state   value in the study
    complete        COMPLETE      the objective
    early_stopped   COMPLETE      the objective (of the restored best epoch)
    pruned          PRUNED        its last reported value, as Optuna keeps it
    diverged        FAIL          none: a diverged run is never a value
    failed          FAIL          none, with the reason

Example `metrics.json` of a pruned trial of train.py:

    {"status": "pruned", "value": 0.41, "epochs": 3, "seconds": 1.2, "reason": "",
     "pruned_at": 3, "started": "2026-11-29T06:30:01.123456+00:00", ...,
     "val/loss": 0.41, "val/acc": 0.88, ...}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

OUTCOME_FILE = "metrics.json"


class RunStatus(str, Enum):
    """How a run ended: one word from one vocabulary, for every reader."""

    COMPLETE = "complete"  # trained for every epoch
    EARLY_STOPPED = "early_stopped"  # the monitored metric stopped improving
    DIVERGED = "diverged"  # a loss or the monitored metric became NaN or infinite
    PRUNED = "pruned"  # a sweeper's pruner stopped it
    FAILED = "failed"  # it raised

    def __str__(self) -> str:
        return self.value

    @property
    def study_state(self) -> str:
        """The Optuna TrialState name this status is told as."""
        return STUDY_STATES[self]

    @property
    def has_value(self) -> bool:
        """Whether the run's objective is a result a sweep may rank (or prune on)."""
        return self in (RunStatus.COMPLETE, RunStatus.EARLY_STOPPED, RunStatus.PRUNED)


STUDY_STATES = {
    RunStatus.COMPLETE: "COMPLETE",
    RunStatus.EARLY_STOPPED: "COMPLETE",
    RunStatus.PRUNED: "PRUNED",
    RunStatus.DIVERGED: "FAIL",
    RunStatus.FAILED: "FAIL",
}
# Statuses whose value ranks: the trial trained as long as it meant to.
FINISHED = (RunStatus.COMPLETE, RunStatus.EARLY_STOPPED)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass(frozen=True)
class TrialOutcome:
    status: RunStatus
    value: float | None = None  # the objective; None unless status.has_value
    epochs: int | None = None  # epochs trained (an app's last reported step)
    seconds: float | None = None
    reason: str = ""  # why it failed or diverged
    pruned_at: int | None = None  # the step at which the pruner stopped it
    started: str = ""  # ISO 8601, UTC
    finished: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)  # extra columns: val/acc, ...
    # Several objectives (hydra.sweeper.direction=[...]): every one, in order; `value`
    # is then the first. None with one objective.
    values: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.value is not None and not (self.status.has_value and math.isfinite(self.value)):
            raise ValueError(f"a {self.status} trial has no value; got {self.value!r}")
        if self.status in FINISHED and self.value is None:
            raise ValueError(f"a {self.status} trial needs its value")
        if self.values is not None and (not self.values or self.value != self.values[0]):
            raise ValueError(f"value {self.value!r} is not the first of values {self.values!r}")

    # -- making one ----------------------------------------------------------------

    @classmethod
    def of_return(
        cls,
        value: Any,
        *,
        pruned_at: int | None = None,
        epochs: int | None = None,
        started: str = "",
        seconds: float | None = None,
        metrics: dict[str, Any] | None = None,
        objectives: int = 1,
    ) -> TrialOutcome:
        """The outcome of a task function that returned `value` (an app that wrote no
        record of its own): failed unless a number (`objectives` numbers, when the
        sweep has several), pruned if its trial said so, diverged if not finite."""
        common = {
            "epochs": epochs,
            "started": started,
            "finished": utc_now(),
            "seconds": seconds,
            "metrics": dict(metrics or {}),
        }
        if objectives > 1:
            return cls._of_values(value, objectives, pruned_at, common)
        if not _is_number(value):
            reason = (
                f"the task function returned {value!r}; a sweep needs it to return the "
                "objective as a number"
            )
            return cls(RunStatus.FAILED, reason=reason, **common)
        if not math.isfinite(value):
            return cls(RunStatus.DIVERGED, reason=f"the objective is {value}", **common)
        if pruned_at is not None:
            return cls(RunStatus.PRUNED, float(value), pruned_at=pruned_at, **common)
        return cls(RunStatus.COMPLETE, float(value), **common)

    @classmethod
    def _of_values(
        cls, returned: Any, objectives: int, pruned_at: int | None, common: dict[str, Any]
    ) -> TrialOutcome:
        """of_return for a sweep of several objectives: a list or tuple of that many."""
        numbers = list(returned) if isinstance(returned, list | tuple) else None
        if numbers is None or len(numbers) != objectives or not all(_is_number(v) for v in numbers):
            reason = (
                f"the task function returned {returned!r}; hydra.sweeper.direction lists "
                f"{objectives} objectives, so it must return {objectives} numbers"
            )
            return cls(RunStatus.FAILED, reason=reason, **common)
        values = tuple(float(v) for v in numbers)
        if not all(math.isfinite(v) for v in values):
            return cls(RunStatus.DIVERGED, reason=f"the objectives are {values}", **common)
        status = RunStatus.PRUNED if pruned_at is not None else RunStatus.COMPLETE
        return cls(status, values[0], pruned_at=pruned_at, values=values, **common)

    @classmethod
    def of_error(
        cls, error: BaseException, *, started: str = "", seconds: float | None = None
    ) -> TrialOutcome:
        """A job that raised: failed, with one line of reason."""
        from hpsweep.sweep.interruption import is_interruption, signal_of

        if is_interruption(error):
            reason = f"interrupted by {signal_of(error)[0]}"
        else:
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
        return cls(
            RunStatus.FAILED, reason=reason, started=started, finished=utc_now(), seconds=seconds
        )

    # -- reading and writing -------------------------------------------------------

    @property
    def study_state(self) -> str:
        return self.status.study_state

    def to_json(self) -> dict[str, Any]:
        record = {
            "status": str(self.status),
            "value": self.value,
            "epochs": self.epochs,
            "seconds": self.seconds,
            "reason": self.reason,
            "pruned_at": self.pruned_at,
            "started": self.started,
            "finished": self.finished,
        }
        if self.values is not None:
            record["values"] = list(self.values)
        clashes = record.keys() & self.metrics.keys()
        if clashes:
            raise ValueError(f"metric names clash with the record's fields: {sorted(clashes)}")
        return {**record, **self.metrics}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> TrialOutcome:
        fields = {"status", "value", "epochs", "seconds", "reason", "pruned_at"}
        fields |= {"started", "finished", "values"}
        values = record.get("values")
        return cls(
            status=RunStatus(record["status"]),
            value=record.get("value"),
            epochs=record.get("epochs"),
            seconds=record.get("seconds"),
            reason=record.get("reason") or "",
            pruned_at=record.get("pruned_at"),
            started=record.get("started") or "",
            finished=record.get("finished") or "",
            metrics={k: v for k, v in record.items() if k not in fields},
            values=None if values is None else tuple(values),
        )

    def write(self, job_dir: Path) -> None:
        """Into the job's folder, atomically: a reader never sees half a record."""
        path = job_dir / OUTCOME_FILE
        tmp = path.with_name(f".{OUTCOME_FILE}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def read(cls, job_dir: Path) -> TrialOutcome | None:
        """The job's record; None if it wrote none (it never ran, or was killed)."""
        path = job_dir / OUTCOME_FILE
        if not path.is_file():
            return None
        return cls.from_json(json.loads(path.read_text()))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def job_dir_of(job_return: Any) -> Path | None:
    """The output folder of a Hydra JobReturn (None if Hydra never set one up)."""
    hydra_cfg = getattr(job_return, "hydra_cfg", None)
    if hydra_cfg is None:
        return None
    return Path(hydra_cfg.hydra.runtime.output_dir)


def outcome_of_job(job_return: Any) -> TrialOutcome:
    """The record the job wrote; when it wrote none (a sweeper that does not wrap its
    jobs, an app that failed before recording), what Hydra's JobReturn says."""
    from hydra.core.utils import JobStatus

    job_dir = job_dir_of(job_return)
    recorded = TrialOutcome.read(job_dir) if job_dir is not None else None
    if recorded is not None:
        return recorded
    if job_return.status == JobStatus.FAILED:
        return TrialOutcome.of_error(job_return._return_value)
    return TrialOutcome.of_return(job_return.return_value)
