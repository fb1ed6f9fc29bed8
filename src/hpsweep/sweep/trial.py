"""The running job's trial: the one public module an app needs to take part in a sweep.

    from hpsweep import SweepTrial

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

A trial cut by a signal, a kill or a lost node is re-launched into its own job folder
when the sweep resumes. To continue where it stopped instead of from epoch 1, save the
training state now and then and load it at the start:

    saved = trial.load_state()            # None: nothing saved (or not usable)
    start = 1 if saved is None else saved.step + 1
    if saved is not None:
        model.load_state_dict(saved.state["model"])
    for epoch in range(start, epochs + 1):
        ...
        trial.save_state({"model": model.state_dict()}, step=epoch)

(hpsweep.sweep.saved_state: one file in `trial.state_dir`, written atomically, loaded
only into the configuration that wrote it.)

Population Based Training (`hydra/sweeper=pbt`) runs a member as segments, one job
each, and needs nothing more from the app than that loop: `should_prune()` also says
True at the segment's last epoch (`trial.stop_at`; save the state before asking, or
right after), and `load_state()` of a new segment's job, which has no state of its
own yet, returns the state it continues from: its member's own, or the state of the
member it exploits, with that state's step. The segment's hyperparameters are the
job's config: an app that restores an optimizer's state sets the configured
hyperparameters again after (train.py does: training.resume).

With several objectives (`hydra.sweeper.direction=[minimize,maximize]`) the task
returns a tuple and reports a list, `trial.report([loss, speed], step)`: Optuna's
`Trial.report` refuses multi-objective studies, so the values go where MO-ASHA reads
them (hpsweep.pruners.report_values), and `should_prune` asks that pruner directly.

With repeats (`hydra.sweeper.repeats=k`), one trial is k jobs, one per seed, maybe in
different processes; they prune together through the study's storage:

- each repeat r stores its value at step e as the trial's user attribute
  `hpsweep_step_<e>_repeat_<r>`;
- the first repeat to reach step e (the trial has no intermediate value at e yet)
  reports to the study the mean of the values at e stored at that moment, and asks the
  pruner; a "prune" answer is stored as the user attribute `hpsweep_pruned_at` = e;
- every repeat, at every step, stops as pruned once `hpsweep_pruned_at` is set at or
  before its step.

Run one after another (n_jobs < repeats, or the basic launcher), the first repeat
decides every rung alone and the later ones stop at the rung it was pruned at; run in
parallel, the rung's value is the mean of the repeats that reached it, and a repeat
already past the rung stops at its next step. Without a pruner none of this runs.

The sweeper runs every job through `hpsweep.sweep.job.RecordedTask`, which makes the
job's trial current and, after the task returns, writes the trial's outcome from what
the task returned and what it reported here. The trial itself lives in the study's
storage (see hpsweep.sweep.channel), so this works in launcher workers too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from pathlib import Path
from typing import Any

from hpsweep.sweep.channel import (
    has_pruner,
    read_channel,
    registered_entry,
)
from hpsweep.sweep.saved_state import STATE_DIR, SavedState, StateFile, config_key
from hpsweep.sweep.settings import PRUNER_TARGETS
from hpsweep.sweep.storage import process_storage

# The pruning protocol across repeats (see the module's docstring).
PRUNED_AT_ATTR = "hpsweep_pruned_at"


def step_attr(step: int, repeat: int) -> str:
    return f"hpsweep_step_{step}_repeat_{repeat}"


_CURRENT: ContextVar[SweepTrial | None] = ContextVar("hpsweep_current_trial", default=None)


class SweepTrial:
    """One running trial: report intermediate values, ask whether to stop, record metrics."""

    def __init__(
        self,
        sweep_dir: Path,
        number: int,
        channel: dict[str, Any],
        slot: int | None = None,
        repeat: int | None = None,
        job_dir: Path | None = None,
        config: Any = None,
        segment: dict[str, Any] | None = None,
    ) -> None:
        self.sweep_dir = sweep_dir
        # A PBT segment's job: stop_at, starts_from, log_dir, params (channel.register_job).
        self.segment = segment
        self.job_dir = job_dir  # the job's own folder: the same on every re-launch
        self._config = config  # the job's composed config: what its saved state is keyed by
        self.number = number
        # The sweeper's slot this job runs in: one per trial in flight (hpsweep.sweep.
        # channel.register_job); train.py's trainer.device=auto maps it to a GPU.
        self.slot = slot
        self.repeat = repeat  # which seed of its configuration (None: no repeats)
        self._channel = channel
        self._decides = False  # this repeat reported the last step's mean to the study
        self._optuna_trial: Any = None  # opened on first use: most jobs of a sweep
        # without a pruner never need the storage
        self.prunes = has_pruner(channel)
        # Several objectives: report and return a list of that many values.
        self.objectives: int = channel.get("objectives", 1)
        self.last_step: int | None = None
        self.last_value: float | None = None
        self.pruned_at: int | None = None
        self.metrics: dict[str, Any] = {}
        self._reported: set[int] | None = None  # steps the study held when this job began

    @classmethod
    def current(cls) -> SweepTrial | None:
        """The trial of this job, when the hpsweep sweeper launched it; else None."""
        return _CURRENT.get()

    @classmethod
    def for_job(
        cls, sweep_dir: Path, job_number: int, job_dir: Path | None = None, config: Any = None
    ) -> SweepTrial | None:
        entry = registered_entry(sweep_dir, job_number)
        if entry is None:  # not one the hpsweep sweeper launched
            return None
        channel = read_channel(sweep_dir)
        repeat = entry.get("repeat") if channel.get("repeats") else None
        return cls(
            sweep_dir,
            entry["trial"],
            channel,
            entry.get("slot"),
            repeat,
            job_dir,
            config,
            entry.get("segment"),
        )

    @contextmanager
    def activate(self) -> Iterator[SweepTrial]:
        """Make this the current trial for the duration of the task."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    @property
    def state_dir(self) -> Path:
        """The folder of this job's saved state: the same on every re-launch."""
        if self.job_dir is None:
            raise RuntimeError("this trial has no job folder: it was not launched by a sweep")
        return self.job_dir / STATE_DIR

    @property
    def keep_state(self) -> bool:
        """Whether the job keeps its saved state when it ends (hydra.sweeper.keep_state)."""
        return bool(self._channel.get("keep_state", False))

    @cached_property
    def state_key(self) -> str:
        """The hash of the job's composed config its saved states are keyed by (hashed
        once: an app may save every epoch)."""
        return config_key(self._config or {})

    def _states(self) -> StateFile:
        return StateFile(self.state_dir, self.state_key)

    def save_state(self, state: Any, step: int) -> None:
        """Save the job's training state after `step`, atomically (see the module's
        docstring for what a state may hold)."""
        self._states().save(state, step)

    def load_state(self) -> SavedState | None:
        """The last state this configuration's job saved; None when there is none, or
        it cannot be used (one warning line says why). A PBT segment's job that saved
        none yet gets the state its segment starts from (`inherited_state`)."""
        return self._states().load() or self.inherited_state()

    def inherited_state(self) -> SavedState | None:
        """A PBT segment's starting state: the state another job of this sweep saved
        (its member's last segment's, or an exploited member's), loaded whatever
        configuration wrote it: the sweeper chose it. None outside PBT or at epoch 0."""
        source = (self.segment or {}).get("starts_from")
        if source is None:
            return None
        states = StateFile(Path(source), self.state_key)
        if not states.path.is_file():  # the sweeper checked it was saved: gone since
            return states.unusable("it is missing")
        return states.load(any_key=True)

    @property
    def stop_at(self) -> int | None:
        """The epoch a PBT segment ends at (None: not a PBT segment)."""
        return (self.segment or {}).get("stop_at")

    @property
    def log_dir(self) -> Path | None:
        """A PBT member's TensorBoard folder, shared by its segments' jobs (None: the
        job's own folder)."""
        folder = (self.segment or {}).get("log_dir")
        return Path(folder) if folder else None

    @property
    def segment_params(self) -> dict[str, Any]:
        """A PBT segment's hyperparameters (override key -> value); {} otherwise."""
        return dict((self.segment or {}).get("params", {}))

    def segment_ends(self, step: int) -> bool:
        return self.stop_at is not None and step >= self.stop_at

    def report(self, value: float | Sequence[float], step: int) -> None:
        """Record the objective's value after `step` (an epoch, usually); with several
        objectives, a list of their values (MO-ASHA reads them: hpsweep.pruners)."""
        if isinstance(value, Sequence):
            self.last_step, self.last_value = step, float(value[0])
            if self.prunes:
                from hpsweep.pruners import report_values

                report_values(self._trial(), value, step)
            return
        self.last_step, self.last_value = step, value
        if not self.prunes and self.segment is None:
            return  # without a pruner nothing reads it: no storage write per epoch
        if self._already_reported(step):
            # A resumed job repeats the steps trained since its last saved state: the
            # study keeps the value it has (Optuna refuses a step twice), one curve.
            return
        if self.repeat is None:
            self._trial().report(value, step)
            return
        trial = self._trial()
        storage, trial_id = trial.storage, trial._trial_id
        storage.set_trial_user_attr(trial_id, step_attr(step, self.repeat), value)
        frozen = storage.get_trial(trial_id)
        self._decides = (
            step not in frozen.intermediate_values and PRUNED_AT_ATTR not in frozen.user_attrs
        )
        if self._decides:
            prefix = step_attr(step, 0)[: -len("0")]
            values = [v for k, v in frozen.user_attrs.items() if k.startswith(prefix)]
            # A fresh Trial: its cached record holds the other repeats' reports too.
            self._optuna_trial = type(trial)(trial.study, trial_id)
            self._optuna_trial.report(sum(values) / len(values), step)

    def should_prune(self) -> bool:
        """Whether the study's pruner stops this trial now. Once it says yes, the trial
        is pruned at the last reported step, whatever the task does next. A PBT
        segment also stops at its last epoch (`stop_at`): the sweeper continues it."""
        if self.last_step is not None and self.segment_ends(self.last_step):
            self.pruned_at = self.last_step
            return True
        if not self.prunes or self.last_step is None:
            return False
        if self.objectives > 1:  # Optuna's Trial.should_prune refuses several objectives
            trial = self._trial()
            frozen = trial.storage.get_trial(trial._trial_id)
            if trial.study.pruner.prune(trial.study, frozen):
                self.pruned_at = self.last_step
                return True
            return False
        if self.repeat is not None:
            return self._should_prune_together()
        if self._trial().should_prune():
            self.pruned_at = self.last_step
            return True
        return False

    def _should_prune_together(self) -> bool:
        """The protocol across repeats: decide the rung if this repeat reported it first,
        then stop if any repeat's decision pruned the configuration at or before now."""
        assert self.last_step is not None
        trial = self._trial()
        if self._decides:
            self._decides = False
            if trial.should_prune():
                trial.storage.set_trial_user_attr(trial._trial_id, PRUNED_AT_ATTR, self.last_step)
        decided = trial.storage.get_trial(trial._trial_id).user_attrs.get(PRUNED_AT_ATTR)
        if decided is not None and decided <= self.last_step:
            self.pruned_at = self.last_step
            return True
        return False

    def _already_reported(self, step: int) -> bool:
        if self._reported is None:
            trial = self._trial()
            self._reported = set(trial.storage.get_trial(trial._trial_id).intermediate_values)
        return step in self._reported

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
            from hydra.utils import instantiate

            channel = self._channel
            pruner = instantiate(channel["pruner"], _execution_whitelist_=PRUNER_TARGETS)
            self._optuna_trial = open_trial(
                channel["storage"], channel["study_name"], pruner, self.number
            )
        return self._optuna_trial


def open_trial(storage_spec: str, study_name: str, pruner: Any, number: int) -> Any:
    """Trial `number` of the study, as a job opens it: on this process's storage
    (process_storage), with `pruner` to answer should_prune (bench/shared_study.py
    opens its jobs' trials through this too)."""
    import optuna

    storage = process_storage(storage_spec)
    study = optuna.load_study(study_name=study_name, storage=storage, pruner=pruner)
    study_id = storage.get_study_id_from_name(study_name)
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
    return optuna.trial.Trial(study, trial_id)
