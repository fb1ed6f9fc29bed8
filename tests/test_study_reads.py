"""Per-trial reads that do not grow with the study: the progress tally kept between
reads agrees with a fresh read, and the asker claims exactly n_trials, its own study
or one another process fills."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from hpsweep.search.bookkeeping import STATUS_ATTR, SURPLUS_ATTR, tell_arguments
from hpsweep.search.study import TrialAsker
from hpsweep.search.tally import StudyTally
from hpsweep.sweep.outcome import RunStatus, TrialOutcome

optuna.logging.set_verbosity(optuna.logging.WARNING)

# (status, value) of trials as they end, in order
ENDINGS = [
    [(RunStatus.COMPLETE, 0.5), (RunStatus.PRUNED, 0.9), (RunStatus.COMPLETE, 0.2)],
    [(RunStatus.FAILED, None), (RunStatus.EARLY_STOPPED, 0.7), (RunStatus.DIVERGED, None)],
    [(RunStatus.COMPLETE, 0.3), (RunStatus.COMPLETE, 0.3), (RunStatus.COMPLETE, 0.1)],
]


def end(
    study: optuna.Study, trial: optuna.Trial, status: RunStatus, value: float | None
) -> float | None:
    outcome = TrialOutcome(status, value)
    trial.set_user_attr(STATUS_ATTR, str(status))
    told, state = tell_arguments(outcome)
    study.tell(trial, told, state=state)
    return told


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("endings", ENDINGS, ids=["mixed", "few-values", "ties"])
def test_a_tally_kept_between_reads_equals_a_fresh_read(
    endings: list[tuple[RunStatus, float | None]], direction: str
) -> None:
    study = optuna.create_study(direction=direction)
    done_before = study.ask()
    end(study, done_before, RunStatus.COMPLETE, 0.4)
    running = [study.ask() for _ in endings]  # in flight at the read
    other = study.ask()  # another process's, still running at the end
    tally = StudyTally.read(study)
    assert tally.counts == {"complete": 1, "running": len(endings) + 1}

    for trial, (status, value) in zip(running, endings, strict=True):
        tally.add(trial.number, str(status), end(study, trial, status, value))
        fresh = StudyTally.read(study)
        assert (tally.done, tally.counts, tally.best) == (fresh.done, fresh.counts, fresh.best)
    assert other.number in tally.running
    if tally.best is not None:
        assert tally.best_text() == f"best {study.best_value:.6g} (trial {study.best_trial.number})"


def test_the_asker_claims_exactly_n_trials_of_its_own_study() -> None:
    study = optuna.create_study()
    asker = TrialAsker(study, n_trials=3)
    asked = [asker() for _ in range(5)]
    assert [t.number if t else None for t in asked] == [0, 1, 2, None, None]
    assert len(study.trials) == 3  # nothing asked beyond


def test_a_resumed_full_study_asks_nothing() -> None:
    study = optuna.create_study()
    for _ in range(3):
        study.tell(study.ask(), 0.1)
    assert TrialAsker(study, n_trials=3)() is None
    assert len(study.trials) == 3


def test_trials_another_process_asked_take_the_last_places() -> None:
    study = optuna.create_study()
    asker = TrialAsker(study, n_trials=4)
    assert asker() is not None  # trial 0
    others = [study.ask() for _ in range(3)]  # another process: trials 1-3
    assert asker() is None  # trial 4 is surplus: recorded as such, never run
    assert asker() is None  # and now the asker knows the study is full
    surplus = [t for t in study.trials if SURPLUS_ATTR in t.user_attrs]
    assert [t.number for t in surplus] == [4]
    assert surplus[0].state == TrialState.FAIL
    assert len(study.trials) == 5 and all(t.number < 4 for t in others)
