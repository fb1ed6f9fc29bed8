"""The running job's trial: the one public module an app needs to take part in a sweep.

    from hpsweep.sweep.trial import SweepTrial

    trial = SweepTrial.current()          # None unless the hpsweep sweeper launched this job
    for epoch in range(1, epochs + 1):
        val_loss = ...
        if trial is not None:
            trial.report(val_loss, step=epoch)
            if trial.should_prune():
                break                     # recorded as pruned, its value as the last one
    if trial is not None:
        trial.record("val/acc", val_acc)  # an extra results.csv column
    return val_loss

The sweeper runs every job through `hpsweep.sweep.job.RecordedTask`, which makes the
job's trial current and, after the task returns, writes the trial's outcome from what
the task returned and what it reported here. The trial itself lives in the study's
storage (see hpsweep.sweep.channel), so this works in launcher workers too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from hpsweep.sweep.channel import has_pruner, read_channel, registered_slot, registered_trial
from hpsweep.sweep.storage import make_storage

_CURRENT: ContextVar[SweepTrial | None] = ContextVar("hpsweep_current_trial", default=None)


class SweepTrial:
    """One running trial: report intermediate values, ask whether to stop, record metrics."""

    def __init__(
        self, sweep_dir: Path, number: int, channel: dict[str, Any], slot: int | None = None
    ) -> None:
        self.sweep_dir = sweep_dir
        self.number = number
        # The sweeper's slot this job runs in: one per trial in flight (hpsweep.sweep.
        # channel.register_job); train.py's trainer.device=auto maps it to a GPU.
        self.slot = slot
        self._channel = channel
        self._optuna_trial: Any = None  # opened on first use: most jobs of a sweep
        # without a pruner never need the storage
        self.prunes = has_pruner(channel)
        self.last_step: int | None = None
        self.last_value: float | None = None
        self.pruned_at: int | None = None
        self.metrics: dict[str, Any] = {}

    @classmethod
    def current(cls) -> SweepTrial | None:
        """The trial of this job, when the hpsweep sweeper launched it; else None."""
        return _CURRENT.get()

    @classmethod
    def for_job(cls, sweep_dir: Path, job_number: int) -> SweepTrial | None:
        number = registered_trial(sweep_dir, job_number)
        if number is None:
            return None
        return cls(
            sweep_dir, number, read_channel(sweep_dir), registered_slot(sweep_dir, job_number)
        )

    @contextmanager
    def activate(self) -> Iterator[SweepTrial]:
        """Make this the current trial for the duration of the task."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def report(self, value: float, step: int) -> None:
        """Record the objective's value after `step` (an epoch, usually)."""
        self.last_step, self.last_value = step, value
        if self.prunes:  # without a pruner nothing reads it: no storage write per epoch
            self._trial().report(value, step)

    def should_prune(self) -> bool:
        """Whether the study's pruner stops this trial now. Once it says yes, the trial
        is pruned at the last reported step, whatever the task does next."""
        if not self.prunes or self.last_step is None:
            return False
        if self._trial().should_prune():
            self.pruned_at = self.last_step
            return True
        return False

    def record(self, name: str, value: Any) -> None:
        """An extra metric of this trial (a number or a short text): a column of
        results.csv, after `reason`, and a key of the job's metrics.json."""
        from hpsweep.sweep.results import RESERVED_COLUMNS

        if name in RESERVED_COLUMNS:
            raise ValueError(
                f"SweepTrial.record({name!r}, ...): {name!r} is a column of every row; "
                "choose another name"
            )
        self.metrics[name] = value

    def _trial(self) -> Any:
        if self._optuna_trial is None:
            import optuna
            from hydra.utils import instantiate

            channel = self._channel
            storage = make_storage(channel["storage"])
            pruner = instantiate(channel["pruner"], _execution_whitelist_=("optuna.pruners.*",))
            study = optuna.load_study(
                study_name=channel["study_name"], storage=storage, pruner=pruner
            )
            study_id = storage.get_study_id_from_name(channel["study_name"])
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, self.number)
            self._optuna_trial = optuna.trial.Trial(study, trial_id)
        return self._optuna_trial
