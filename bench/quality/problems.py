"""The problems every method searches, behind one interface.

A problem is a search space, a fidelity counted in steps (epochs) from 1 to
`max_step`, and `evaluate(config, step)`: the value (to minimize) of `config` trained
for `step` steps. Every method sees the same space and the same values; what each may
spend is counted by the ledger (ledger.py), never by the method.

The MF-Hartmann problems come from mf-prior-bench (`mfh3_good`, `mfh6_good`: Hartmann
functions with a fidelity that adds bias and noise at low fidelities, "good" meaning the
low fidelities rank configurations well). They are formulas: nothing downloads. Their
fidelity runs from 1 to 100; step s of `max_step` queries fidelity round(100 s / R), so
that a step costs the same share of a full evaluation as an epoch does on digits.
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

# Steps of one full evaluation: 27 epochs on digits, 1 + 3 + 9 + 27 rungs at eta = 3.
MAX_STEP = 27


@dataclass(frozen=True)
class Param:
    """One dimension of a search space: a float (log-uniform when `log`)."""

    name: str
    low: float
    high: float
    log: bool = False

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def interval(self) -> str:
        """The space as a Hydra override value: `interval(0,1)`, tagged log when log."""
        if self.log:
            return f"tag(log,interval({self.low},{self.high}))"
        return f"interval({self.low},{self.high})"


class Problem(Protocol):
    name: str
    seed: int  # seeds the problem's noise: every method of a run sees the same values
    params: list[Param]
    max_step: int
    # The normalized regret's two ends: 0 at `best`, 1 at `typical` (the median value
    # of a random configuration at the full fidelity).
    best: float
    typical: float

    def evaluate(self, config: dict[str, float], step: int) -> float: ...


@dataclass
class MFHartmann:
    """mf-prior-bench's multi-fidelity Hartmann function (3 or 6 dimensions)."""

    benchmark: str  # mfh3_good | mfh6_good
    seed: int  # seeds the benchmark's noise
    max_step: int = MAX_STEP
    name: str = ""
    params: list[Param] = field(default_factory=list)
    best: float = 0.0
    _bench: Any = None

    def __post_init__(self) -> None:
        import mfpbench  # only in the bench's own venv (it pins numpy < 2)

        self._bench = mfpbench.get(self.benchmark, seed=self.seed)
        self.name = self.benchmark.removesuffix("_good")
        self.params = [Param(name, 0.0, 1.0) for name in sorted(self._bench.space)]
        # The known optimum of the Hartmann function (the metric's lower bound).
        self.best = float(self._bench.metrics[self._bench.value_metric].bounds[0])

    def fidelity(self, step: int) -> int:
        low, high, _ = self._bench.fidelity_range
        return max(low, min(high, round(high * step / self.max_step)))

    def evaluate(self, config: dict[str, float], step: int) -> float:
        result = self._bench.query(dict(config), at=self.fidelity(step))
        return float(result.value.value)

    @functools.cached_property
    def typical(self) -> float:
        """The median value of 1,000 random configurations at the full fidelity, from a
        fixed stream: the same scale for every seed and method (computed on first use:
        the Hydra app's jobs never need it)."""
        n = 1000
        rng = np.random.default_rng(12345)
        values = [
            self.evaluate({p.name: p.sample(rng) for p in self.params}, self.max_step)
            for _ in range(n)
        ]
        return statistics.median(values)


def make_problem(name: str, seed: int) -> Problem:
    if name in ("mfh3", "mfh6"):
        return MFHartmann(f"{name}_good", seed)
    raise ValueError(f"unknown problem {name!r}: mfh3 or mfh6")
