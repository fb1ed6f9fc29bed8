"""Population Based Training's decisions (Jaderberg et al., 2017), pure and seeded.

A population of `population` members trains side by side in segments of `interval`
epochs. When a member's segment ends at epoch t, its next segment is decided against
the scores the population holds at t (each member's value at its own segment end t,
for the members that reached t):

    boundaries(30, 5)                        -> [5, 10, 15, 20, 25, 30]
    quantile_size(4, 0.25)                   -> 1       (Ray Tune's rule, below)
    exploit_source(3, {0: .2, 1: .5, 3: .9}, 0.25, "minimize", rng)  -> 0
        member 3 is in the bottom quantile: it takes over member 0's state at t (exploit)
    explore({"optimizer.lr": 0.01}, distributions, 0.25, rng) -> {"optimizer.lr": 0.012}
        each continuous value times 0.8 or 1.2, clipped to its bounds, or with
        `resample_probability` drawn afresh from the space; a choice is drawn afresh

Asynchronous, as the paper's workers: a member never waits for the others; a member
that reaches t first is ranked among those already there (alone, it continues). A
member whose state at t is not saved is never a source: only members whose segment
ending at t finished are ranked at t.

Every random draw comes from a generator seeded by (sweep seed, member, segment), so
the same command makes the same decisions, also when a cut sweep resumes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

PERTURB_FACTORS = (0.8, 1.2)


@dataclass(frozen=True)
class PBTSettings:
    """hydra.sweeper.pbt: the population, the epochs between decisions, the share of
    the population that exploits (and is exploited), the chance of a fresh draw, and the
    epochs each member trains in all (train.py's trainer.epochs)."""

    population: int = 8
    interval: int = 5
    quantile: float = 0.25
    resample_probability: float = 0.25
    epochs: int | None = None

    @classmethod
    def of(cls, node: Any) -> PBTSettings:
        return cls(**{key: node[key] for key in cls.__dataclass_fields__ if key in node})


def boundaries(epochs: int, interval: int) -> list[int]:
    """The epochs at which segments end: every `interval`, and the last epoch."""
    return [*range(interval, epochs, interval), epochs]


def quantile_size(members: int, quantile: float) -> int:
    """How many members make the top (and the bottom) quantile of `members` ranked
    ones: ceil(members * quantile), at most half of them (Ray Tune's PBT rule): with
    2 ranked members, the worse one exploits the better; alone, nobody does."""
    size = math.ceil(members * quantile)
    return members // 2 if size > members / 2 else size


def ranked(scores: dict[int, float], direction: str) -> list[int]:
    """Members best first (ties: the lower member first)."""
    sign = -1.0 if direction == "maximize" else 1.0
    return sorted(scores, key=lambda member: (sign * scores[member], member))


def exploit_source(
    member: int,
    scores: dict[int, float],
    quantile: float,
    direction: str,
    rng: np.random.Generator,
) -> int | None:
    """The member whose state `member` takes over, or None (it continues its own):
    when `member` ranks in the bottom quantile of `scores`, one of the top quantile."""
    order = ranked(scores, direction)
    size = quantile_size(len(order), quantile)
    if size == 0 or member not in order[-size:]:
        return None
    return order[int(rng.integers(size))]


def explore(
    params: dict[str, Any],
    distributions: dict[str, BaseDistribution],
    resample_probability: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """The source's hyperparameters, perturbed (see the module's docstring)."""
    explored = dict(params)
    for name, dist in distributions.items():
        if name not in params:
            continue
        if isinstance(dist, CategoricalDistribution) or rng.random() < resample_probability:
            explored[name] = resample(dist, rng)
        else:
            explored[name] = perturb(params[name], dist, PERTURB_FACTORS[rng.integers(2)])
    return explored


def resample(dist: BaseDistribution, rng: np.random.Generator) -> Any:
    """A fresh draw from a distribution, on its scale (log-uniform for log ones)."""
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[int(rng.integers(len(dist.choices)))]
    assert isinstance(dist, FloatDistribution | IntDistribution)
    if dist.log:
        value = math.exp(rng.uniform(math.log(dist.low), math.log(dist.high)))
    else:
        value = rng.uniform(dist.low, dist.high)
    return on_grid(value, dist)


def perturb(value: Any, dist: BaseDistribution, factor: float) -> Any:
    """`value` times `factor` (for a log-scale parameter a step of log(factor) in log
    space: the same product), clipped to the distribution's bounds."""
    assert isinstance(dist, FloatDistribution | IntDistribution)
    return on_grid(float(value) * factor, dist)


def on_grid(value: float, dist: FloatDistribution | IntDistribution) -> Any:
    """`value` clipped to [low, high] and snapped to the distribution's step."""
    value = min(max(value, dist.low), dist.high)
    step = dist.step
    if step is not None and not dist.log:
        value = dist.low + round((value - dist.low) / step) * step
        value = min(value, dist.high)
    if isinstance(dist, IntDistribution):
        return round(value)
    return float(value)


def decision_rng(seed: int | None, member: int, segment: int) -> np.random.Generator:
    """The generator of one decision: the same (seed, member, segment), the same draws."""
    return np.random.default_rng([seed or 0, member, segment])
