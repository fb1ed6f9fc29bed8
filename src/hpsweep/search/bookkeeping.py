"""The sweep loop's pure decisions, on plain lists of Optuna's FrozenTrial.

Which trials count towards n_trials, which of a batch just asked are surplus (another
process took the last places), which trials a killed process left running, what seed
a resumed sampler takes, and how a trial's outcome is told to the study. Each is a
function of the study's trials alone, tested by tables in tests/test_bookkeeping.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from optuna.trial import FrozenTrial, TrialState

from hpsweep.sweep.outcome import TrialOutcome

# On a re-queued trial: the number of the trial a signal or a crash cut off. Sweeps of
# hpsweep 0.1 re-queued cut trials as copies; a cut trial now continues itself, but a
# folder of 0.1 may still be resumed, and its copies must not count twice.
REQUEUED_ATTR = "hpsweep_requeued_from"
# On a trial asked while another process took the last place in n_trials: never run.
SURPLUS_ATTR = "hpsweep_surplus"
# On every trial a job ran: its job number in the sweep folder, and its status word.
JOB_ATTR = "hpsweep_job"
STATUS_ATTR = "hpsweep_status"

FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
# Finished, or running now in this process or another.
CLAIMED_STATES = (*FINISHED_STATES, TrialState.RUNNING)


def counted(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    """Trials that count towards n_trials: not a cut-off trial that was queued again (its
    re-run counts), not a surplus one (asked by two processes at once, never run)."""
    requeued = {t.user_attrs[REQUEUED_ATTR] for t in trials if REQUEUED_ATTR in t.user_attrs}
    return [t for t in trials if t.number not in requeued and SURPLUS_ATTR not in t.user_attrs]


def done_count(trials: Sequence[FrozenTrial]) -> int:
    return sum(t.state in FINISHED_STATES for t in counted(trials))


def claimed_numbers(trials: Sequence[FrozenTrial]) -> list[int]:
    """Numbers of the trials that count and are finished or running, in ask order."""
    return sorted(t.number for t in counted(trials) if t.state in CLAIMED_STATES)


def surplus(trials: Sequence[FrozenTrial], asked: Sequence[int], n_trials: int) -> list[int]:
    """Of the trial numbers just asked, those beyond the first n_trials claimed in the
    study: by trial number, the earliest ask wins."""
    allowed = set(claimed_numbers(trials)[:n_trials])
    return [number for number in asked if number not in allowed]


def cut_off(trials: Sequence[FrozenTrial], own: set[int]) -> list[FrozenTrial]:
    """This sweep folder's trials left RUNNING by a killed process. Other processes'
    running trials (a study shared through its storage) are theirs."""
    return [t for t in trials if t.state == TrialState.RUNNING and t.number in own]


def sampler_seed(seed: int | None, trials_in_study: int) -> int | None:
    """The sampler's seed for a sweep that starts with `trials_in_study` trials already
    in its study. A resumed sweep must not draw its seeded stream from the start again,
    or it would propose the configurations it already ran; the same command after the
    same cut still draws the same ones. Seed and count are mixed by NumPy's SeedSequence,
    not added: processes sharing a study each with its own seed (0 and 1) would
    otherwise collide (0 + 1 trial == 1 + 0 trials) and propose the same values."""
    if seed is None or trials_in_study == 0:
        return seed
    import numpy as np

    return int(np.random.SeedSequence([seed, trials_in_study]).generate_state(1)[0])


def tell_arguments(outcome: TrialOutcome) -> tuple[float | list[float] | None, TrialState]:
    """(value, state) for `study.tell`: the study's state is the outcome's, always; with
    several objectives the value is their list."""
    state = TrialState[outcome.study_state]
    if state != TrialState.COMPLETE:
        return None, state
    return (outcome.value if outcome.values is None else list(outcome.values)), state
