"""What a sweep runs, decided before anything is written.

    SweepPlan.of(config, ["optimizer=adam,sgd", "model=mlp,cnn"], settings)
    # grid of 4 trials: every combination once
    SweepPlan.of(config, ["optimizer.lr=interval(1e-4,1e-1)"], settings)
    # sampled: settings.n_trials trials from optimizer.lr ~ log-uniform [1e-4, 0.1]

The space is the sweep's spec (hpsweep.sweep.spec, parsed once) as Optuna distributions
(hpsweep.search.space); `search` says whether a finite space runs as a grid; the
repeats are the seeds each configuration runs over (hpsweep.search.repeats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

from hpsweep.search.repeats import RepeatPlan
from hpsweep.search.space import SearchSpace, describe, grid_combinations, is_finite, search_space
from hpsweep.sweep.spec import SweepSpec


@dataclass(frozen=True)
class SweepPlan:
    spec: SweepSpec
    space: SearchSpace
    grid: bool  # every combination once, in order (else `sampler` proposes each trial)
    n_trials: int
    repeats: RepeatPlan

    @classmethod
    def of(
        cls,
        config: DictConfig,
        arguments: list[str],
        *,
        search: str,
        n_trials: int,
        params: dict[str, Any],
        conditional: dict[str, Any],
        repeats: RepeatPlan,
    ) -> SweepPlan:
        """The plan of the sweep `arguments` (Hydra's sweep overrides) over `config`."""
        groups = [g for g in config.hydra.runtime.choices if not g.startswith("hydra")]
        spec = SweepSpec.parse(arguments, params, conditional, groups)
        space = search_space(spec)
        if search == "grid" and not space.is_finite():
            infinite = [k for k, d in space.distributions().items() if not is_finite(d)]
            raise ValueError(
                f"hydra.sweeper.search=grid needs finite lists; not finite: {', '.join(infinite)}"
            )
        if not space.distributions():  # nothing to search: one run with the fixed overrides
            return cls(spec, space, True, 1, repeats)
        grid = space.is_finite() and search != "sample"
        count = len(grid_combinations(space)) if grid else n_trials
        return cls(spec, space, grid, count, repeats)

    def lines(self) -> list[str]:
        """The plan in words, as the dry run prints it."""
        lines = [f"search space ({'grid' if self.grid else 'sampled'}, {self.n_trials} trials):"]
        lines += [f"  {name}: {describe(dist)}" for name, dist in self.space.params.items()]
        for condition, params in self.space.conditional.items():
            lines += [f"  {name}: {describe(d)}  (when {condition})" for name, d in params.items()]
        lines += [f"  fixed: {' '.join(self.space.fixed)}"] if self.space.fixed else []
        return lines
