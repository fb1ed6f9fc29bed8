"""MO-ASHA (Schmucker et al., 2021): asynchronous successive halving on several objectives.

Optuna's `Trial.report` refuses multi-objective studies (optuna #2792, RFC #3450), so
no Optuna pruner can stop a trial of one. Here a trial's values at a step live in one
user attribute of the trial, `hpsweep_values_step_<step>` (a list, one value per
objective, in the study's order), written by `report_values`; the pruner reads them
from the study's storage, so jobs in other processes compete at the same rungs.

    import optuna
    from hpsweep.pruners import MultiObjectiveASHAPruner, report_values

    study = optuna.create_study(
        directions=["minimize", "minimize"],
        pruner=MultiObjectiveASHAPruner(min_resource=1, reduction_factor=3),
    )
    trial = study.ask()
    for epoch in range(1, 10):
        report_values(trial, [val_loss, seconds_per_epoch], step=epoch)
        if study.pruner.prune(study, study._storage.get_trial(trial._trial_id)):
            ...                          # stop: tell the study PRUNED

The rule is ASHA's: rungs at min_resource * reduction_factor ** (min_early_stopping_rate
+ k) steps; a trial that reaches a rung is compared with every trial that reached it
before (any state), and continues only if it is among the best max(1, n // eta) of the
n trials there. Best, with several objectives: by non-dominated sorting (front after
front), and within the front that does not fit whole, the subset of greatest
hypervolume (greedy hypervolume subset selection). Both are Optuna's own
(`_fast_non_domination_rank`, `_solve_hssp`, what its NSGA-II and MOTPE use): private
functions, pinned by tests/test_multi_objective_asha.py. A trial is judged once per
rung, on reaching it, and never demoted later, as in ASHA.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

VALUES_PREFIX = "hpsweep_values_step_"


def report_values(trial: optuna.Trial, values: Sequence[float], step: int) -> None:
    """Record a trial's objectives after `step`, where MultiObjectiveASHAPruner reads them."""
    trial.set_user_attr(f"{VALUES_PREFIX}{step}", [float(v) for v in values])


def values_at(trial: FrozenTrial, step: int) -> list[float] | None:
    return trial.user_attrs.get(f"{VALUES_PREFIX}{step}")


def last_step(trial: FrozenTrial) -> int | None:
    prefix = VALUES_PREFIX
    steps = [int(k[len(prefix) :]) for k in trial.user_attrs if k.startswith(prefix)]
    return max(steps, default=None)


def kept(losses: np.ndarray, keep: int) -> np.ndarray:
    """Indices of the `keep` best rows of `losses` (n trials x objectives, lower is
    better): whole non-dominated fronts in order, the last one cut by hypervolume."""
    from optuna._hypervolume import _solve_hssp
    from optuna.study._multi_objective import _fast_non_domination_rank

    ranks = _fast_non_domination_rank(losses)
    chosen: list[int] = []
    for rank in range(int(ranks.max()) + 1):
        front = np.flatnonzero(ranks == rank)
        if len(chosen) + len(front) <= keep:
            chosen += front.tolist()
            continue
        worst = losses.max(axis=0)
        reference = worst + np.maximum(np.abs(worst) * 0.1, 1e-12)  # beyond every point
        chosen += _solve_hssp(losses[front], front, keep - len(chosen), reference).tolist()
        break
    return np.array(sorted(chosen), dtype=int)


def promoted(own: Sequence[float], others: Sequence[Sequence[float]], eta: int) -> bool:
    """Whether a trial with losses `own` is among the best max(1, n // eta) of the n
    trials at a rung (itself and `others`, who reached it before)."""
    losses = np.array([list(own), *map(list, others)], dtype=float)
    keep = max(1, len(losses) // eta)
    return 0 in kept(losses, keep)


class MultiObjectiveASHAPruner(optuna.pruners.BasePruner):
    """See the module's docstring."""

    def __init__(
        self, min_resource: int = 1, reduction_factor: int = 3, min_early_stopping_rate: int = 0
    ) -> None:
        if min_resource < 1 or reduction_factor < 2 or min_early_stopping_rate < 0:
            raise ValueError(
                "MultiObjectiveASHAPruner needs min_resource >= 1, reduction_factor >= 2 "
                "and min_early_stopping_rate >= 0"
            )
        self.min_resource = min_resource
        self.reduction_factor = reduction_factor
        self.min_early_stopping_rate = min_early_stopping_rate

    def is_rung(self, step: int) -> bool:
        rung = self.min_resource * self.reduction_factor**self.min_early_stopping_rate
        while rung < step:
            rung *= self.reduction_factor
        return rung == step

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        step = last_step(trial)
        if step is None or not self.is_rung(step):
            return False
        signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in study.directions])
        own = np.array(values_at(trial, step), dtype=float) * signs
        if not np.isfinite(own).all():
            return True  # a diverged value is worse than any
        others = []
        for other in study.get_trials(deepcopy=False):
            values = values_at(other, step) if other.number != trial.number else None
            if values is not None and np.isfinite(values).all():
                others.append(np.array(values, dtype=float) * signs)
        return not promoted(own, others, self.reduction_factor)
