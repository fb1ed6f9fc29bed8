"""Racing (`hydra.sweeper.repeats=adaptive`): seeds only where they decide the ranking.

F-Race (Birattari et al., 2002) and irace (López-Ibáñez et al., 2016) give a
configuration another evaluation only while a statistical test against the best one
cannot rule it out. Here an evaluation is a seed (a job with seed_key = base + r):

- every configuration runs seed 0;
- when one of its seeds ends, it gets the next seed while it has fewer than
  `max_repeats` and the test does not exclude it;
- the incumbent is the configuration with the most seeds, the best mean among those,
  so it always has the most seeds; it is never excluded (it is what the others are
  tested against), and so runs to max_repeats.

The test, one-sided at level `significance`, is paired, as F-Race's is blocked by
instance: a challenger with k seeds is compared with the incumbent on their shared
seeds (the incumbent's first k: the same seeds of the app, and with
`data.val_seed=${trainer.seed}` the same validation splits, so a split that is hard for
one configuration is hard for the other too, and their difference varies far less than
either value). It is excluded when its mean difference there is worse than

    t(1 - significance, dof) * sd_d / sqrt(k)

where sd_d is the sd of a seed's difference from the incumbent, pooled over every
configuration sharing at least 2 seeds with it (dof: their shared seeds less one each).
Pooling is what lets one seed be tested at all. Before any configuration but the
incumbent has 2 seeds, sd_d is taken as sqrt(2) times the seed-to-seed sd pooled over
configurations with 2 seeds or more (unpaired: larger, so it excludes less); with
neither, nothing is excluded. Nor is a configuration whose mean ranks above the
incumbent's (results are ranked by the mean): with seeds whose difficulty differs (a
validation split per seed), a first seed that was easy for everyone would otherwise
leave a one-seed configuration at the top of the ranking that its paired test had
ruled out. A configuration whose seed did not finish (pruned,
diverged, failed) is out of the race: it gets no more seeds.

    race = Race(max_repeats=4, significance=0.1, direction="minimize")
    race.set_values(0, [0.10, 0.12, 0.11, 0.09])  # the incumbent
    race.set_values(1, [0.30])
    race.another_seed(1)   # False: 0.30 is worse than 0.10 by far more than the noise
    race.set_values(2, [0.105])
    race.another_seed(2)   # True: as good as the incumbent on seed 0, so far
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from optuna.trial import FrozenTrial, TrialState

from hpsweep.search.repeats import REPEATS_ATTR, RepeatPlan


@cache
def _critical_value(significance: float, dof: int) -> float:
    """Student's t quantile at 1 - significance (scipy: a dependency of scikit-learn)."""
    from scipy.stats import t

    return float(t.ppf(1.0 - significance, dof))


def _pooled(samples: Iterable[list[float]]) -> tuple[float, int] | None:
    """(the sd pooled over the samples of 2 values or more, weighted by their dof, the
    dof); None when none has 2."""
    squares, dof = 0.0, 0
    for sample in samples:
        if len(sample) >= 2:
            squares += statistics.variance(sample) * (len(sample) - 1)
            dof += len(sample) - 1
    return (math.sqrt(squares / dof), dof) if dof else None


@dataclass
class Race:
    max_repeats: int = 5
    significance: float = 0.1
    direction: str = "minimize"
    # configuration (trial number) -> the values of its finished seeds, in seed order
    values: dict[int, list[float]] = field(default_factory=dict)

    def set_values(self, configuration: int, values: list[float]) -> None:
        self.values[configuration] = [v for v in values if math.isfinite(v)]

    def _better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "minimize" else a > b

    def incumbent(self) -> int | None:
        """The configuration with the most seeds, the best mean among those."""
        best: int | None = None
        for configuration, values in self.values.items():
            if not values:
                continue
            if best is None:
                best = configuration
                continue
            seeds, best_seeds = len(values), len(self.values[best])
            if seeds > best_seeds or (
                seeds == best_seeds
                and self._better(statistics.fmean(values), statistics.fmean(self.values[best]))
            ):
                best = configuration
        return best

    def pooled_sd(self) -> tuple[float, int] | None:
        """(the seed-to-seed sd pooled over configurations with >= 2 seeds, its dof)."""
        return _pooled(self.values.values())

    def difference_sd(self, incumbent: int) -> tuple[float, int] | None:
        """(the sd of a seed's difference from the incumbent, pooled over configurations
        sharing >= 2 seeds with it, its dof)."""
        reference = self.values[incumbent]
        return _pooled(
            [v - r for v, r in zip(values, reference, strict=False)]  # their shared seeds
            for configuration, values in self.values.items()
            if configuration != incumbent
        )

    def excluded(self, configuration: int) -> bool:
        """Whether the test rules `configuration` out against the incumbent (see the
        module's docstring)."""
        incumbent = self.incumbent()
        values = self.values.get(configuration, [])
        if incumbent is None or incumbent == configuration or not values:
            return False
        paired, unpaired = self.difference_sd(incumbent), self.pooled_sd()
        if paired is not None:
            sd, dof = paired
        elif unpaired is not None:
            sd, dof = unpaired[0] * math.sqrt(2), unpaired[1]
        else:
            return False
        mean, reference = statistics.fmean(values), self.values[incumbent]
        if not self._better(statistics.fmean(reference), mean):
            return False  # its mean ranks above the incumbent's: it could be the best
        k = len(values)
        gap = mean - statistics.fmean(reference[:k])
        if self.direction == "maximize":
            gap = -gap
        return gap > _critical_value(self.significance, dof) * sd / math.sqrt(k)

    def another_seed(self, configuration: int) -> bool:
        """Whether `configuration`, all of whose seeds so far finished, runs one more."""
        seeds = len(self.values.get(configuration, []))
        return 0 < seeds < self.max_repeats and not self.excluded(configuration)

    def noise_sd(self) -> float | None:
        """The pooled seed-to-seed sd (None before any configuration has 2 seeds): what a
        configuration's single value is uncertain by."""
        pooled = self.pooled_sd()
        return None if pooled is None else pooled[0]


def resumed_race(plan: RepeatPlan, direction: str, trials: Sequence[FrozenTrial]) -> Race:
    """The race of a sweep whose study holds `trials`: the seeds' values of every
    configuration already told (a resumed sweep's, from its rows' REPEAT_COLUMNS on
    the trial), so the incumbent and the pooled sd carry over."""
    race = Race(plan.max_repeats, plan.significance, direction)
    for trial in trials:
        columns = trial.user_attrs.get(REPEATS_ATTR)
        if trial.state == TrialState.COMPLETE and columns:
            values = [float(v) for v in str(columns.get("values", "")).split(";") if v]
            race.set_values(trial.number, values)
    return race
