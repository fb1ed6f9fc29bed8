"""The search space: Hydra's override grammar as Optuna distributions.

    optimizer=adam,sgd                        -> Categorical(adam, sgd)
    optimizer.lr=interval(1e-4,1e-1)          -> Float(1e-4, 0.1, log)  (>= 2 decades)
    optimizer.lr=tag(linear,interval(1e-4,1e-1)) -> Float(1e-4, 0.1)
    regularization.dropout=interval(0,0.7)    -> Float(0, 0.7)
    model.depth=int(interval(1,4))            -> Int(1, 4)
    model.depth=range(1,4)                    -> Int(1, 3)  (Hydra's stop is exclusive)

plus conditional parameters, searched only where a choice took one value. A space of
finite lists only can run as a grid, every combination once.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import optuna
from hydra.core.override_parser.types import ChoiceSweep, RangeSweep, Transformer
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpsweep.sweep.spec import Condition, Parameter, SweepSpec


def distribution(parameter: Parameter) -> BaseDistribution:
    """The Optuna distribution of one searched parameter of Hydra's grammar; an
    interval's bounds and scale are the spec's (hpsweep.sweep.spec.Interval)."""
    interval = parameter.interval
    if interval is not None:
        if interval.is_int:
            return IntDistribution(int(interval.low), int(interval.high), log=interval.log)
        return FloatDistribution(float(interval.low), float(interval.high), log=interval.log)
    override = parameter.override
    sweep = override.value()
    if isinstance(sweep, RangeSweep) and not sweep.shuffle:
        values = list(override.sweep_iterator(transformer=Transformer.encode))
        if not values:
            raise ValueError(f"{override.input_line}: the range is empty")
        step = sweep.step
        if all(isinstance(v, int) for v in values) and isinstance(step, int) and step > 0:
            # Hydra's range excludes its stop, Optuna's includes its high: the last value.
            return IntDistribution(values[0], values[-1], step=step)
        return CategoricalDistribution(values)
    if isinstance(sweep, ChoiceSweep | RangeSweep):
        return CategoricalDistribution(
            list(override.sweep_iterator(transformer=Transformer.encode))
        )
    raise ValueError(f"{override.input_line}: hpsweep cannot search this kind of sweep")


@dataclass
class SearchSpace:
    params: dict[str, BaseDistribution] = field(default_factory=dict)
    # Parameters searched only in trials where a choice took one value (optimizer=sgd).
    conditional: dict[Condition, dict[str, BaseDistribution]] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)  # overrides every trial gets as given

    def distributions(self) -> dict[str, BaseDistribution]:
        every = dict(self.params)
        for params in self.conditional.values():
            every.update(params)
        return every

    def is_finite(self) -> bool:
        return all(is_finite(d) for d in self.distributions().values())


def search_space(spec: SweepSpec) -> SearchSpace:
    """The Optuna distributions of a sweep's parameters, grouped by their condition."""
    params = {p.key: distribution(p) for p in spec.unconditional}
    conditional: dict[Condition, dict[str, BaseDistribution]] = {}
    for parameter in spec.conditional:
        assert parameter.condition is not None
        conditional.setdefault(parameter.condition, {})[parameter.key] = distribution(parameter)
    return SearchSpace(params, conditional, list(spec.fixed))


def describe(dist: BaseDistribution) -> str:
    """How a parameter is searched, in words: `log-uniform [0.0001, 0.1] (spans 3 decades)`,
    `uniform [0, 0.7]`, `integer uniform [1, 4]`, `one of adam, sgd`."""
    if isinstance(dist, CategoricalDistribution):
        return "one of " + ", ".join(str(c) for c in dist.choices)
    assert isinstance(dist, FloatDistribution | IntDistribution)
    kind = "integer " if isinstance(dist, IntDistribution) else ""
    bounds = f"[{dist.low:g}, {dist.high:g}]"
    if dist.step not in (None, 1):
        return f"{kind}uniform {bounds} step {dist.step:g}"
    if not dist.log:
        return f"{kind}uniform {bounds}"
    decades = math.log10(dist.high / dist.low)
    return f"{kind}log-uniform {bounds} (spans {decades:.2g} decades)"


def suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
    assert isinstance(dist, CategoricalDistribution)
    return trial.suggest_categorical(name, dist.choices)


def sample(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    """Define-by-run: the unconditional parameters, then those whose condition holds."""
    params = {name: suggest(trial, name, dist) for name, dist in space.params.items()}
    for condition, more in space.conditional.items():
        if condition.holds(params):
            params.update({n: suggest(trial, n, d) for n, d in more.items()})
    return params


def is_finite(dist: BaseDistribution) -> bool:
    if isinstance(dist, CategoricalDistribution):
        return True
    if isinstance(dist, IntDistribution):
        return not dist.log
    return isinstance(dist, FloatDistribution) and dist.step is not None


def grid_values(dist: BaseDistribution) -> list[Any]:
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, IntDistribution) and not dist.log:
        return list(range(dist.low, dist.high + 1, dist.step))
    if isinstance(dist, FloatDistribution) and dist.step is not None:
        count = round((dist.high - dist.low) / dist.step) + 1
        return [dist.low + i * dist.step for i in range(count)]
    raise ValueError(f"{dist} is not a finite list of values")


def combinations(space: dict[str, BaseDistribution]) -> list[dict[str, Any]]:
    """Every combination of the values, the last parameter varying fastest."""
    names = list(space)
    values = [grid_values(space[name]) for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def grid_combinations(space: SearchSpace) -> list[dict[str, Any]]:
    """Every combination, each extended by every combination of its conditional
    parameters, in the order Hydra's basic sweeper would run them."""
    grid = []
    for base in combinations(space.params):
        extensions: list[dict[str, Any]] = [{}]
        for condition, params in space.conditional.items():
            if condition.holds(base):
                extensions = [
                    {**ext, **more} for ext in extensions for more in combinations(params)
                ]
        grid += [{**base, **ext} for ext in extensions]
    return grid
