"""Repeats over seeds (`hydra.sweeper.repeats=k`): pure decisions, tested by tables.

One configuration (one Optuna trial) runs as k jobs that differ only in the app's seed:

    jobs_of(["optimizer.lr=0.01"], RepeatPlan(repeats=3, seed_key="trainer.seed", base_seed=0))
    # [["optimizer.lr=0.01", "trainer.seed=0"],
    #  ["optimizer.lr=0.01", "trainer.seed=1"],
    #  ["optimizer.lr=0.01", "trainer.seed=2"]]

The base seed is the app's own value at seed_key (train.py: trainer.seed, 0 by default,
or what the command line set). With repeats=1 the overrides are left as they are, so a
sweep without repeats runs exactly as before.

When the k jobs have ended, their TrialOutcomes become one configuration outcome
(`aggregate`), told to the study once and written as one results.csv row:

    repeats' statuses             configuration           value
    any pruned                    pruned (at its rung)    mean of the repeats' values
    >= min_repeats finished       complete (early_stopped  mean of the finished values
                                  when all stopped early)  (sd over them; a note of
                                                           the others in `reason`)
    fewer finished, all the
      others diverged             diverged                none; the first reason
    fewer finished                failed                  none; the first reason

Pruned wins because a pruned configuration's repeats all stop at the same rung (the
pruning protocol in hpsweep.sweep.trial): they never trained to the end.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hpsweep.sweep.outcome import FINISHED, RunStatus, TrialOutcome
from hpsweep.sweep.settings import ADAPTIVE, base_seed

# On the study's trial: the row's REPEAT_COLUMNS, for optuna-dashboard and other readers.
REPEATS_ATTR = "hpsweep_repeats"


@dataclass(frozen=True)
class RepeatPlan:
    """Fixed repeats (`repeats` seeds each), or racing (`adaptive`: one seed first, more
    while the race keeps a configuration in, up to `max_repeats`)."""

    repeats: int = 1
    seed_key: str = "trainer.seed"
    base_seed: int = 0
    min_repeats: int | None = None  # None: all repeats
    adaptive: bool = False
    max_repeats: int = 5
    significance: float = 0.1

    @property
    def needed(self) -> int:
        """How many repeats must finish for the configuration to count."""
        return self.repeats if self.min_repeats is None else self.min_repeats

    @property
    def seeded(self) -> bool:
        """Whether configurations run over seeds (rows get REPEAT_COLUMNS)."""
        return self.adaptive or self.repeats > 1

    @property
    def first_seeds(self) -> int:
        """The seeds a configuration is queued with when it is asked."""
        return 1 if self.adaptive else self.repeats

    @property
    def most_seeds(self) -> int:
        return self.max_repeats if self.adaptive else self.repeats

    @classmethod
    def of(
        cls,
        config: Any,
        repeats: int | str,
        seed_key: str,
        min_repeats: int | None,
        max_repeats: int = 5,
        significance: float = 0.1,
    ) -> RepeatPlan:
        """The plan of a sweep over `config` (the app's composed config)."""
        base = base_seed(config, repeats, seed_key)
        if repeats == ADAPTIVE:
            return cls(1, seed_key, base, 1, True, max_repeats, significance)
        assert isinstance(repeats, int)
        return cls(repeats, seed_key, base, min_repeats)


def seed_overrides(overrides: list[str], plan: RepeatPlan, repeat: int) -> list[str]:
    """The overrides of repeat `repeat` of one configuration. An override of seed_key
    among them (a fixed `trainer.seed=5`) is the base the repeats offset: the command
    line's value is the config's value, so RepeatPlan.of saw it already."""
    if not plan.seeded:
        return list(overrides)
    others = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != plan.seed_key]
    return [*others, f"{plan.seed_key}={plan.base_seed + repeat}"]


def jobs_of(overrides: list[str], plan: RepeatPlan) -> list[list[str]]:
    """The overrides of each repeat a configuration is queued with, in repeat order."""
    return [seed_overrides(overrides, plan, r) for r in range(plan.first_seeds)]


@dataclass(frozen=True)
class RepeatedOutcome:
    """One configuration's outcome over its repeats."""

    outcome: TrialOutcome  # what the study is told and the row shows (value: the mean)
    values: tuple[float | None, ...]  # each repeat's value, in repeat order
    sd: float | None  # sample sd of the values the mean is over (None: fewer than 2)
    finished: int  # repeats that finished (complete or early_stopped)

    def columns(self) -> dict[str, Any]:
        """The row's REPEAT_COLUMNS."""
        return {
            "value_sd": "" if self.sd is None else self.sd,
            "repeats": self.finished,
            "values": ";".join("" if v is None else repr(v) for v in self.values),
        }


def _mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean = math.fsum(values) / len(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def _mean_metrics(outcomes: Sequence[TrialOutcome]) -> dict[str, Any]:
    """Numeric extra metrics (val/acc, test/loss, ...) averaged over the outcomes that
    have them; other metrics are the first repeat's."""
    merged: dict[str, Any] = {}
    for name in dict.fromkeys(k for o in outcomes for k in o.metrics):
        values = [o.metrics[name] for o in outcomes if name in o.metrics]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers and len(numbers) == len(values) and all(math.isfinite(v) for v in numbers):
            merged[name] = math.fsum(numbers) / len(numbers)
        else:
            merged[name] = values[0]
    return merged


def aggregate(outcomes: Sequence[TrialOutcome], min_repeats: int | None = None) -> RepeatedOutcome:
    """The configuration's outcome from its repeats' outcomes (see the module's table)."""
    if not outcomes:
        raise ValueError("a configuration needs at least one repeat's outcome")
    needed = len(outcomes) if min_repeats is None else min_repeats
    values = tuple(o.value for o in outcomes)
    common = {
        "started": min((o.started for o in outcomes if o.started), default=""),
        "finished": max((o.finished for o in outcomes if o.finished), default=""),
        "seconds": math.fsum(o.seconds for o in outcomes if o.seconds is not None),
    }
    finished = [o for o in outcomes if o.status in FINISHED]
    if any(o.status == RunStatus.PRUNED for o in outcomes):
        return _pruned(outcomes, values, common)
    if len(finished) >= needed and finished:
        return _finished(outcomes, finished, values, common)
    return _failed(outcomes, len(finished), needed, values, common)


def _most_epochs(outcomes: Sequence[TrialOutcome]) -> int | None:
    return max((o.epochs for o in outcomes if o.epochs is not None), default=None)


def _pruned(
    outcomes: Sequence[TrialOutcome], values: tuple[float | None, ...], common: dict[str, Any]
) -> RepeatedOutcome:
    """Pruned at the earliest rung any repeat was pruned at; the mean of those with a value."""
    with_value = [o.value for o in outcomes if o.value is not None and o.status.has_value]
    mean, sd = _mean_sd(with_value)
    rungs = [o.pruned_at for o in outcomes if o.status == RunStatus.PRUNED]
    rung = min((r for r in rungs if r is not None), default=None)
    outcome = TrialOutcome(
        RunStatus.PRUNED,
        mean,
        epochs=_most_epochs(outcomes),
        pruned_at=rung,
        metrics=_mean_metrics([o for o in outcomes if o.status.has_value]),
        **common,
    )
    return RepeatedOutcome(outcome, values, sd, 0)


def _finished(
    outcomes: Sequence[TrialOutcome],
    finished: list[TrialOutcome],
    values: tuple[float | None, ...],
    common: dict[str, Any],
) -> RepeatedOutcome:
    """Enough repeats finished: the mean over them, a note of the others in `reason`."""
    mean, sd = _mean_sd([o.value for o in finished if o.value is not None])
    status = (
        RunStatus.EARLY_STOPPED
        if all(o.status == RunStatus.EARLY_STOPPED for o in finished)
        else RunStatus.COMPLETE
    )
    others = [(r, o) for r, o in enumerate(outcomes) if o.status not in FINISHED]
    outcome = TrialOutcome(
        status,
        mean,
        epochs=_most_epochs(finished),
        reason="; ".join(f"repeat {r} {o.status}: {o.reason}" for r, o in others),
        metrics=_mean_metrics(finished),
        **common,
    )
    return RepeatedOutcome(outcome, values, sd, len(finished))


def _failed(
    outcomes: Sequence[TrialOutcome],
    finished: int,
    needed: int,
    values: tuple[float | None, ...],
    common: dict[str, Any],
) -> RepeatedOutcome:
    """Too few finished: diverged if every other repeat diverged, else failed."""
    others = [(r, o) for r, o in enumerate(outcomes) if o.status not in FINISHED]
    first, bad = others[0]
    status = (
        RunStatus.DIVERGED
        if all(o.status == RunStatus.DIVERGED for _, o in others)
        else RunStatus.FAILED
    )
    reason = (
        f"{finished} of {len(outcomes)} repeats finished, {needed} needed; "
        f"repeat {first} {bad.status}: {bad.reason}"
    )
    outcome = TrialOutcome(status, epochs=_most_epochs(outcomes), reason=reason, **common)
    return RepeatedOutcome(outcome, values, None, finished)


def job_numbers(first_job: int, configuration: int, plan: RepeatPlan) -> list[int]:
    """The job numbers of the `configuration`-th configuration of a launch whose first
    job is `first_job`: the repeats it is queued with are consecutive jobs."""
    start = first_job + configuration * plan.first_seeds
    return list(range(start, start + plan.first_seeds))


def configuration_outcome(
    outcomes: Sequence[TrialOutcome], plan: RepeatPlan, noise_sd: float | None = None
) -> tuple[TrialOutcome, dict[str, Any] | None]:
    """(what the study is told and the row shows, the row's REPEAT_COLUMNS) of one
    configuration's jobs' outcomes; without repeats, the one job's outcome as it is.
    Racing: a configuration of one finished seed has no sd of its own; its value_sd is
    `noise_sd`, the race's pooled seed-to-seed sd (what its one value is uncertain by)."""
    if not plan.seeded:
        [outcome] = outcomes
        return outcome, None
    repeated = aggregate(outcomes, plan.min_repeats)
    columns = repeated.columns()
    if plan.adaptive and repeated.sd is None and repeated.finished == 1 and noise_sd:
        columns["value_sd"] = noise_sd
    return repeated.outcome, columns
