"""SMAC3 as a bench method: Hyperband with SMAC's random forest, and plain SMAC BO.

"SMAC3 Hyperband" is SMAC3's `MultiFidelityFacade`: Hyperband (min budget 1 step, max
budget `problem.max_step`, eta 3) whose new configurations come from SMAC's random
forest and expected improvement instead of uniform sampling, the BOHB recipe with a
forest in place of BOHB's KDE. "SMAC3 BO" is SMAC3's `HyperparameterOptimizationFacade`
(the same forest, no fidelity): every configuration is evaluated at `max_step`.

Both are driven through SMAC's ask/tell interface rather than `optimize()`, so that the
bench's ledger, not SMAC, counts what is spent: `ask()` gives a configuration and a
budget, the ledger evaluates it (and raises `BudgetSpent` once the budget is gone, where
the method stops), `tell()` hands the value back. SMAC's `n_trials` never stops the
loop; it only sizes the initial design (at most a quarter of `n_trials`), so it is set
to the number of trials the ledger's budget buys, as SMAC's own
`get_n_trials_for_hyperband_multifidelity` computes it for Hyperband.

Charging: SMAC's Hyperband trains every (configuration, budget) from scratch; its
target function receives a budget and no checkpoint. So each evaluation gets a fresh
trial key and pays its whole budget, promotions included. `resume_promotions=True` keys
the ledger by configuration instead, so that a promotion pays only the steps past the
lower rung, as if training resumed from a checkpoint: not what SMAC does, kept so the
two readings can be compared.

SMAC 2.4's random forest is scikit-learn's (pyrfr is an optional extra it no longer
needs). SMAC writes its run history to a temporary directory removed afterwards, and
its INFO logging is silenced while it runs.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ConfigSpace import Configuration, ConfigurationSpace, Float
from smac import HyperparameterOptimizationFacade, MultiFidelityFacade, Scenario
from smac.acquisition.maximizer import LocalAndSortedRandomSearch, LocalSearch
from smac.facade.abstract_facade import AbstractFacade
from smac.intensifier.hyperband_utils import get_n_trials_for_hyperband_multifidelity
from smac.model.random_forest import RandomForest
from smac.runhistory import StatusType, TrialInfo, TrialValue

from bench.quality.ledger import BudgetSpent, Ledger
from bench.quality.problems import Problem

ETA = 3
MIN_STEP = 1
# A failed evaluation's cost before any value is known: finite (see `_drive`), and worse
# than any value of the bench's problems.
FIRST_CRASH_COST = 1e9

# The ledger key of one evaluation, given its trial and its index in the run.
KeyFor = Callable[[TrialInfo, int], Hashable]


def _configspace(problem: Problem, seed: int) -> ConfigurationSpace:
    space = ConfigurationSpace(seed=seed)
    space.add([Float(p.name, (p.low, p.high), log=p.log) for p in problem.params])
    return space


@contextmanager
def _quiet_smac() -> Iterator[None]:
    """SMAC logs every trial at INFO. Raise only its own logger's level, and restore it:
    SMAC's `logging_level=<int>` would instead rewrite the root logger's configuration
    for the whole bench."""
    smac_logger = logging.getLogger("smac")
    previous = smac_logger.level
    smac_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        smac_logger.setLevel(previous)


def _scenario(
    problem: Problem, seed: int, out_dir: Path, n_trials: int, multi_fidelity: bool
) -> Scenario:
    fidelity = {"min_budget": MIN_STEP, "max_budget": problem.max_step} if multi_fidelity else {}
    return Scenario(
        _configspace(problem, seed),
        name="smac",
        output_directory=out_dir,
        deterministic=True,  # one seed per configuration: no repeated evaluations
        n_trials=n_trials,
        seed=seed,
        **fidelity,
    )


def _model(scenario: Scenario) -> RandomForest:
    """The facades' own forest (`get_model`'s settings), but on one thread: the default
    `n_jobs=-1` would start a thread per core for ten small trees, in every run the
    bench may be running side by side."""
    return RandomForest(
        scenario.configspace,
        log_y=True,
        n_trees=10,
        ratio_features=1.0,
        min_samples_split=2,
        min_samples_leaf=1,
        max_depth=2**20,
        bootstrapping=True,
        seed=scenario.seed,
        n_jobs=1,
    )


class _OrderedLocalSearch(LocalSearch):
    """SMAC's local search, with its start points in a fixed order.

    SMAC dedups the start points through a `set()` of Configurations, and a Configuration
    hashes its repr: a str, whose hash Python salts per process (PYTHONHASHSEED). The set's
    order, hence which start point uses which draws of the local search's generator, then
    changes from process to process, and so does the run, whatever the seed. Sorting the
    points by their vectors makes a run depend on its seed alone."""

    def _get_initial_points(
        self,
        previous_configs: list[Configuration],
        n_points: int,
        additional_start_points: list[tuple[float, Configuration]] | None,
    ) -> list[Configuration]:
        points = super()._get_initial_points(previous_configs, n_points, additional_start_points)
        return sorted(points, key=lambda config: tuple(config.get_array()))


def _acquisition_maximizer(scenario: Scenario) -> LocalAndSortedRandomSearch:
    """The facades' own maximizer (`get_acquisition_maximizer`'s settings), with the
    ordered local search in place of SMAC's."""
    maximizer = LocalAndSortedRandomSearch(
        scenario.configspace, challengers=10000, local_search_iterations=10, seed=scenario.seed
    )
    maximizer._local_search = _OrderedLocalSearch(
        scenario.configspace, n_steps_plateau_walk=10, seed=scenario.seed
    )
    return maximizer


def _drive(smac: AbstractFacade, problem: Problem, ledger: Ledger, key_for: KeyFor) -> None:
    """Ask, evaluate through the ledger, tell; until the ledger's budget is spent."""
    worst: float | None = None  # the worst finite value told so far
    index = 0
    # Checked before asking too: an ask may refit the forest, wasted once nothing is left.
    while not ledger.exhausted:
        info = smac.ask()
        # The budget is a float rung (1.0, 3.0, ...); None when SMAC runs without fidelity.
        step = problem.max_step if info.budget is None else round(info.budget)
        config = {name: float(value) for name, value in dict(info.config).items()}
        try:
            value = ledger.evaluate(key_for(info, index), config, step)
        except BudgetSpent:
            return
        if math.isfinite(value):
            worst = value if worst is None else max(worst, value)
            smac.tell(info, TrialValue(cost=value))
        else:
            # Not SMAC's own crash cost (inf): its forest's cost scaling turns an inf into
            # NaNs that scikit-learn refuses. The worst value seen keeps it last in a rung
            # without stretching the forest's scale.
            cost = FIRST_CRASH_COST if worst is None else worst
            smac.tell(info, TrialValue(cost=cost, status=StatusType.CRASHED))
        index += 1


def _fresh_key(info: TrialInfo, index: int) -> Hashable:
    return index


def _config_key(info: TrialInfo, index: int) -> Hashable:
    return tuple(sorted(dict(info.config).items()))


def run_smac_hyperband(
    problem: Problem, seed: int, ledger: Ledger, *, resume_promotions: bool = False
) -> None:
    """SMAC3's MultiFidelityFacade (Hyperband + random forest), seeded by `seed`.

    Every evaluation is a fresh ledger trial paying its whole budget: SMAC's Hyperband
    retrains each promoted configuration from scratch. `resume_promotions=True` charges a
    promotion only the steps past its previous rung (a per-configuration key)."""
    n_trials = get_n_trials_for_hyperband_multifidelity(
        total_budget=ledger.budget,
        min_budget=MIN_STEP,
        max_budget=problem.max_step,
        eta=ETA,
        print_summary=False,
    )
    with tempfile.TemporaryDirectory(prefix="smac-") as out_dir, _quiet_smac():
        scenario = _scenario(problem, seed, Path(out_dir), n_trials, multi_fidelity=True)
        smac = MultiFidelityFacade(
            scenario,
            model=_model(scenario),
            acquisition_maximizer=_acquisition_maximizer(scenario),
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=ETA),
            logging_level=False,
            overwrite=True,
        )
        _drive(smac, problem, ledger, _config_key if resume_promotions else _fresh_key)


def run_smac_bo(problem: Problem, seed: int, ledger: Ledger) -> None:
    """SMAC3's HyperparameterOptimizationFacade (random forest BO), every configuration
    evaluated at `max_step`, seeded by `seed`."""
    n_trials = max(1, ledger.budget // problem.max_step)
    with tempfile.TemporaryDirectory(prefix="smac-") as out_dir, _quiet_smac():
        scenario = _scenario(problem, seed, Path(out_dir), n_trials, multi_fidelity=False)
        smac = HyperparameterOptimizationFacade(
            scenario,
            model=_model(scenario),
            acquisition_maximizer=_acquisition_maximizer(scenario),
            logging_level=False,
            overwrite=True,
        )
        _drive(smac, problem, ledger, _fresh_key)


METHODS = {
    "SMAC3 Hyperband": run_smac_hyperband,
    "SMAC3 BO": run_smac_bo,
}
