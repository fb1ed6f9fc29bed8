"""The sweep loop's pure decisions, by tables of Optuna trials."""

from __future__ import annotations

import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from hpsweep.search.bookkeeping import (
    REQUEUED_ATTR,
    SURPLUS_ATTR,
    claimed_numbers,
    counted,
    cut_off,
    done_count,
    sampler_seed,
    surplus,
    tell_arguments,
)
from hpsweep.sweep.outcome import RunStatus, TrialOutcome

C, P, F, R, W = (
    TrialState.COMPLETE,
    TrialState.PRUNED,
    TrialState.FAIL,
    TrialState.RUNNING,
    TrialState.WAITING,
)


def trials(*specs: tuple[TrialState, dict]) -> list[FrozenTrial]:
    """Numbered trials from (state, user_attrs)."""
    made = []
    for number, (state, attrs) in enumerate(specs):
        trial = create_trial(
            state=state,
            value=0.5 if state == C else None,
            params={"x": 0.1},
            distributions={"x": FloatDistribution(0, 1)},
            user_attrs=attrs,
        )
        trial.number = number
        made.append(trial)
    return made


# (trials, counted numbers, done, claimed)
COUNTING = [
    ([(C, {}), (P, {}), (F, {})], [0, 1, 2], 3, [0, 1, 2]),
    ([(C, {}), (R, {})], [0, 1], 1, [0, 1]),
    ([(C, {}), (W, {})], [0, 1], 1, [0]),  # queued, not yet claimed
    # trial 1 was cut off and re-queued as trial 2: only the re-run counts
    ([(C, {}), (F, {}), (C, {REQUEUED_ATTR: 1})], [0, 2], 2, [0, 2]),
    ([(C, {}), (F, {}), (W, {REQUEUED_ATTR: 1})], [0, 2], 1, [0]),
    # a surplus trial (asked beyond n_trials by a second process) never counts
    ([(C, {}), (F, {SURPLUS_ATTR: True})], [0], 1, [0]),
]


@pytest.mark.parametrize(("specs", "numbers", "done", "claimed"), COUNTING)
def test_which_trials_count(specs: list, numbers: list, done: int, claimed: list) -> None:
    made = trials(*specs)
    assert [t.number for t in counted(made)] == numbers
    assert done_count(made) == done
    assert claimed_numbers(made) == claimed


@pytest.mark.parametrize(
    ("specs", "asked", "n_trials", "extra"),
    [
        ([(C, {}), (R, {}), (R, {})], [1, 2], 3, []),
        ([(C, {}), (R, {}), (R, {})], [1, 2], 2, [2]),
        # another process asked trial 1 first: ours (2, 3) fill what is left
        ([(C, {}), (R, {}), (R, {}), (R, {})], [2, 3], 3, [3]),
        ([(C, {}), (C, {}), (R, {})], [2], 2, [2]),
    ],
)
def test_surplus_is_what_was_asked_beyond_n_trials(
    specs: list, asked: list, n_trials: int, extra: list
) -> None:
    assert surplus(trials(*specs), asked, n_trials) == extra


def test_cut_off_trials_are_this_folders_running_ones() -> None:
    made = trials((C, {}), (R, {}), (R, {}), (W, {}))
    assert [t.number for t in cut_off(made, own={0, 1, 3})] == [1]


def test_a_resumed_sampler_does_not_restart_its_stream() -> None:
    assert sampler_seed(0, 0) == 0  # a new study: the seed as given
    assert sampler_seed(None, 5) is None  # unseeded stays unseeded
    assert sampler_seed(0, 4) == sampler_seed(0, 4)  # the same cut, the same stream
    # a resumed stream differs from the original and from every other seed's and cut's,
    # also between processes that share a study with seeds 0 and 1
    seeds = {sampler_seed(seed, n) for seed in range(4) for n in range(0, 20)}
    assert len(seeds) == 4 * 20


@pytest.mark.parametrize(
    ("outcome", "told"),
    [
        (TrialOutcome(RunStatus.COMPLETE, 0.25), (0.25, C)),
        (TrialOutcome(RunStatus.EARLY_STOPPED, 0.5), (0.5, C)),
        (TrialOutcome(RunStatus.PRUNED, 0.9, pruned_at=3), (None, P)),  # Optuna keeps its
        (TrialOutcome(RunStatus.DIVERGED), (None, F)),  # last intermediate value
        (TrialOutcome(RunStatus.FAILED, reason="boom"), (None, F)),
    ],
    ids=lambda v: str(v.status) if isinstance(v, TrialOutcome) else "",
)
def test_the_study_is_told_the_recorded_outcome(
    outcome: TrialOutcome, told: tuple[float | None, TrialState]
) -> None:
    assert tell_arguments(outcome) == told
