"""TPE that learns from every rung of every bracket, BOHB's way.

Under successive halving or Hyperband most trials stop early, so most of what a study
knows sits in intermediate values. Optuna's TPE ranks trials by state first: every
COMPLETE trial counts as better than every PRUNED one, whatever their values. Early in
an asynchronous successive-halving run the first few trials reach the top rung with
no competition, complete, and stay in TPE's "good" group however poor they are (issue
30 measured our `sha` preset worse than random search on MF-Hartmann 6; at 20 seeds
bench/search_quality.py did not reproduce that: 0.390 against random's 0.585).

BOHB (Falkner et al., 2018) fits its density model on one budget: the largest at which
enough configurations have been evaluated, across all brackets. This sampler does the
same with Optuna's own TPE. Before each trial it picks the budget b = the largest
reported step at which at least `min_points` trials have a value (d + 2 by default, d
the number of parameters: BOHB's rule), and shows TPE a study of

- every trial that reached b (finished or still running), valued at b: its
  intermediate value at the last step <= b, or its final value if it completed
  before b (an early stop);
- every finished trial that stopped before b, as PRUNED: TPE puts it after all the
  others, in the "bad" group (it lost a rung);
- when `constant_liar`, every running trial not yet at b, as PRUNED without values:
  the worst of all, so parallel workers do not propose the same point.

TPE then proposes as usual: its prior, bandwidths, multivariate and group modes,
categorical and conditional parameters, start-up trials. Without intermediate values
(no pruner reports) b does not exist and this is TPE on the completed trials.

One objective only. Rebuilding the view reads every trial once per new trial: O(n).

Measured (bench/search_quality.py: mf-prior-bench's MF-Hartmann, HyperbandPruner 1-27-3,
20 full evaluations' budget, 20 seeds, mean normalized regret at the whole budget):
mfh3 0.069, mfh6 0.392, against Optuna's TPE 0.065 and 0.232. On mfh6 the values at
low steps hardly rank the configurations (Spearman 0.08 at step 1, 0.30 at 3, 0.54 at
9 against step 27), so a model of a lower budget learns from noise, while Optuna's TPE
puts whatever reached the top first. With min_points=3 (the top budget sooner) it ties
TPE: 0.051 and 0.255. So no preset uses it; `hydra/sweeper/sampler=hpsweep_mftpe`
does, and the bench keeps measuring it ("optuna hyperband+MF-TPE").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, TPESampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState


class MultiFidelityTPESampler(BaseSampler):
    """Optuna's TPE fitted on the largest budget with enough observations, across every
    bracket and rung (see the module's docstring).

    Args:
        min_points: trials that must have a value at a budget for the model to use it;
            None: the number of parameters + 2 (BOHB).
        constant_liar: running trials count as the worst (for parallel workers).
        seed, **tpe_options: passed to optuna.samplers.TPESampler (n_startup_trials,
            n_ei_candidates, multivariate, group, gamma, ...).
    """

    def __init__(
        self,
        *,
        min_points: int | None = None,
        constant_liar: bool = True,
        seed: int | None = None,
        **tpe_options: Any,
    ) -> None:
        if min_points is not None and min_points < 1:
            raise ValueError(f"min_points must be at least 1, got {min_points}")
        self._min_points = min_points
        self._constant_liar = constant_liar
        # The liar is ours (running trials in the view); TPE's own would write its
        # proposals into the view's throwaway storage.
        self._tpe = TPESampler(seed=seed, constant_liar=False, **tpe_options)
        self._view: tuple[int, Study] | None = None

    def reseed_rng(self) -> None:
        self._tpe.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        # On the real study: TPE's search-space caches are tied to one study.
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._tpe.sample_relative(self._view_for(study, trial), trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        view = self._view_for(study, trial)
        return self._tpe.sample_independent(view, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._tpe.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._tpe.after_trial(study, trial, state, values)

    def _view_for(self, study: Study, trial: FrozenTrial) -> Study:
        """The study TPE sees for this trial, built once per trial."""
        if len(study.directions) > 1:
            raise ValueError("MultiFidelityTPESampler supports one objective only")
        if self._view is None or self._view[0] != trial._trial_id:
            # Every bracket's trials: Study._get_trials reads the storage, while
            # HyperbandPruner's bracket study filters only get_trials.
            trials = [t for t in study._get_trials(deepcopy=False) if t.number != trial.number]
            self._view = (trial._trial_id, self._build_view(study, trials))
        return self._view[1]

    def _build_view(self, study: Study, trials: list[FrozenTrial]) -> Study:
        finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
        running = [t for t in trials if t.state == TrialState.RUNNING]
        dimensions = len({name for t in finished for name in t.distributions})
        min_points = self._min_points or dimensions + 2
        budget = model_budget(finished + running, min_points)
        # Built by hand: optuna.create_study would log a line for each view.
        storage = optuna.storages.InMemoryStorage()
        storage.create_new_study(directions=[study.direction], study_name="view")
        view = Study(study_name="view", storage=storage)
        shown = (view_trial(t, budget, liar=self._constant_liar) for t in finished + running)
        view.add_trials([t for t in shown if t is not None])
        return view


def value_at(trial: FrozenTrial, step: int) -> float | None:
    """The trial's value at budget `step`: its intermediate value at the last step <= step
    once it has reached `step`; its final value if it completed before `step`; else None."""
    steps = trial.intermediate_values
    if trial.state == TrialState.COMPLETE and (not steps or max(steps) < step):
        return trial.value
    if not steps or max(steps) < step:
        return None
    return steps[max(s for s in steps if s <= step)]


def model_budget(trials: Sequence[FrozenTrial], min_points: int) -> int | None:
    """The largest reported step at which at least `min_points` trials have a value
    (the smallest reported step when none has that many); None without reports."""
    steps = sorted({s for t in trials for s in t.intermediate_values}, reverse=True)
    for step in steps:
        if sum(value_at(t, step) is not None for t in trials) >= min_points:
            return step
    return steps[-1] if steps else None


def view_trial(trial: FrozenTrial, budget: int | None, liar: bool) -> FrozenTrial | None:
    """The trial as TPE sees it at `budget` (see the module's docstring); None: unseen."""
    if not trial.params:
        return None
    value = trial.value if budget is None else value_at(trial, budget)
    if value is not None and not math.isnan(value):
        state, values, intermediate = TrialState.COMPLETE, [value], {}
    elif trial.state == TrialState.RUNNING:
        if not liar:
            return None
        state, values, intermediate = TrialState.PRUNED, None, {}
    else:
        last = max(trial.intermediate_values, default=None)
        state, values = TrialState.PRUNED, None
        intermediate = {} if last is None else {last: trial.intermediate_values[last]}
    return optuna.trial.create_trial(
        state=state,
        values=values,
        params=trial.params,
        distributions=trial.distributions,
        intermediate_values=intermediate,
    )
