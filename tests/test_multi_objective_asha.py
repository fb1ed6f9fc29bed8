"""MO-ASHA (hpsweep.pruners): which trials a rung keeps, by tables, and the pruner on a
real multi-objective Optuna study. These tables also pin the two private Optuna
functions it stands on (_fast_non_domination_rank, _solve_hssp)."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from hpsweep.pruners import MultiObjectiveASHAPruner, report_values
from hpsweep.pruners.multi_objective_asha import kept, last_step, promoted


@pytest.mark.parametrize(
    ("losses", "keep", "expected"),
    [
        ([[1, 1], [2, 2]], 1, [0]),  # 1 dominates 2
        ([[1, 2], [2, 1], [3, 3], [0.5, 5]], 3, [0, 1, 3]),  # the first front, whole
        ([[1, 2], [2, 1], [3, 3], [0.5, 5]], 4, [0, 1, 2, 3]),
        # Two of the front of three: the pair of greatest hypervolume against the
        # reference (3.3, 5.5): (1, 2) alone covers 8.05, with (2, 1) 1.3 more, with
        # (0.5, 5) 0.25 more.
        ([[1, 2], [2, 1], [3, 3], [0.5, 5]], 2, [0, 1]),
        ([[1, 2], [2, 1], [3, 3], [0.5, 5]], 1, [0]),
        ([[3, 3], [1, 2], [2, 1], [4, 4]], 3, [0, 1, 2]),  # front of 2, then 1 of the next
        ([[1, 2, 3], [3, 2, 1], [2, 2, 2], [4, 4, 4]], 3, [0, 1, 2]),  # three objectives
    ],
)
def test_kept(losses: list[list[float]], keep: int, expected: list[int]) -> None:
    assert kept(np.array(losses, dtype=float), keep).tolist() == expected


@pytest.mark.parametrize(
    ("own", "others", "eta", "expected"),
    [
        ((1, 1), [], 3, True),  # alone at the rung: the best of one
        ((1, 1), [(2, 2), (3, 3)], 3, True),
        ((2, 2), [(1, 1), (3, 3)], 3, False),  # 3 trials keep 1
        ((2, 2), [(1, 1)], 2, False),
        ((2, 2), [(1, 1), (3, 3), (4, 4), (5, 5), (6, 6)], 3, True),  # 6 keep 2
        # Not dominated, but (1, 1) covers more hypervolume: 3 trials keep 1.
        ((3, 0.1), [(1, 1), (2, 2)], 3, False),
    ],
)
def test_promoted(own: tuple, others: list[tuple], eta: int, expected: bool) -> None:
    assert promoted(own, others, eta) is expected


@pytest.mark.parametrize(
    ("pruner", "rungs"),
    [
        (MultiObjectiveASHAPruner(), [1, 3, 9, 27]),
        (MultiObjectiveASHAPruner(min_resource=2, reduction_factor=2), [2, 4, 8, 16, 32]),
        (MultiObjectiveASHAPruner(2, 2, min_early_stopping_rate=1), [4, 8, 16, 32]),
    ],
)
def test_rungs(pruner: MultiObjectiveASHAPruner, rungs: list[int]) -> None:
    assert [step for step in range(1, 33) if pruner.is_rung(step)] == rungs


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="reduction_factor >= 2"):
        MultiObjectiveASHAPruner(reduction_factor=1)


def test_the_pruner_on_a_study_with_a_minimized_and_a_maximized_objective() -> None:
    study = optuna.create_study(
        directions=["minimize", "maximize"], pruner=MultiObjectiveASHAPruner(reduction_factor=3)
    )

    def pruned_at(values: tuple[float, float], steps: int = 1) -> int | None:
        """Report `values` at each step, asking the pruner after each, as a job does."""
        trial = study.ask()
        for step in range(1, steps + 1):
            report_values(trial, values, step=step)
            frozen = study._storage.get_trial(trial._trial_id)
            assert last_step(frozen) == step
            if study.pruner.prune(study, frozen):
                return step
        return None

    assert pruned_at((0.5, 10), steps=3) is None  # first at rungs 1 and 3
    assert pruned_at((0.6, 5)) == 1  # worse on both than (0.5, 10): 2 at rung 1 keep 1
    assert pruned_at((0.4, 20), steps=3) is None  # better on both, at both rungs
    assert pruned_at((0.45, 15), steps=3) == 1  # 4 at rung 1 keep 1: (0.4, 20) is better
    assert pruned_at((0.3, 30), steps=3) is None  # the best at both rungs
    # 6 at rung 1 keep 2: second only to (0.3, 30); 4 at rung 3 keep 1: pruned there.
    assert pruned_at((0.35, 25), steps=3) == 3
