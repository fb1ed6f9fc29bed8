"""WaitingIndexJournalStorage answers `get_all_trials(states=(WAITING,))` as Optuna's own
JournalStorage does, on the same journal file, while trials are enqueued, asked and
told by it and by another writer (another process's storage)."""

from __future__ import annotations

import pickle
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from hpsweep.sweep.journal_storage import WaitingIndexJournalStorage
from hpsweep.sweep.storage import make_storage

WAITING = (TrialState.WAITING,)
X = optuna.distributions.FloatDistribution(0, 1)


def waiting_numbers(storage: optuna.storages.BaseStorage, study_id: int) -> list[int]:
    return [t.number for t in storage.get_all_trials(study_id, deepcopy=False, states=WAITING)]


@pytest.fixture
def two_writers(tmp_path: Path) -> tuple[optuna.Study, optuna.Study]:
    """The same study through the indexed storage and through Optuna's own."""
    journal = str(tmp_path / "journal.log")
    indexed = WaitingIndexJournalStorage(JournalFileBackend(journal))
    study = optuna.create_study(study_name="s", storage=indexed)
    stock = optuna.storages.JournalStorage(JournalFileBackend(journal))
    return study, optuna.load_study(study_name="s", storage=stock)


# Each step: which study acts (0: indexed, 1: the other writer) and what it does.
STEPS = [
    (0, "ask_tell"),
    (1, "enqueue"),
    (0, "ask_tell"),  # pops the other writer's enqueued trial
    (0, "enqueue"),
    (1, "enqueue"),
    (0, "enqueue"),
    (1, "ask_tell"),  # the other writer pops the first of three
    (0, "ask_tell"),
    (0, "ask_tell"),
    (0, "ask_tell"),  # none waiting: a new trial
    (1, "enqueue"),
    (1, "enqueue"),
]


def test_the_waiting_trials_are_optunas_after_every_step(
    two_writers: tuple[optuna.Study, optuna.Study],
) -> None:
    studies = two_writers
    for who, action in STEPS:
        study = studies[who]
        if action == "enqueue":
            study.enqueue_trial({"x": 0.5})
        else:
            trial = study.ask({"x": X})
            study.tell(trial, trial.params["x"])
        indexed, stock = (s._storage for s in studies)
        expected = waiting_numbers(stock, studies[1]._study_id)
        assert waiting_numbers(indexed, studies[0]._study_id) == expected, (who, action)
    assert waiting_numbers(studies[0]._storage, studies[0]._study_id) == [6, 7]


def test_ask_pops_enqueued_trials_in_order(tmp_path: Path) -> None:
    storage = make_storage(str(tmp_path / "journal.log"))
    assert isinstance(storage, WaitingIndexJournalStorage)
    study = optuna.create_study(storage=storage)
    for x in (0.1, 0.2):
        study.enqueue_trial({"x": x})
    asked = [study.ask({"x": X}) for _ in range(3)]
    assert [t.params["x"] for t in asked[:2]] == [0.1, 0.2]
    assert [t.state for t in study.get_trials(deepcopy=False)] == [TrialState.RUNNING] * 3


def test_deep_copies_and_other_states_are_optunas(
    two_writers: tuple[optuna.Study, optuna.Study],
) -> None:
    study, _ = two_writers
    study.enqueue_trial({"x": 0.3})
    storage = study._storage
    [copied] = storage.get_all_trials(study._study_id, deepcopy=True, states=WAITING)
    [held] = storage.get_all_trials(study._study_id, deepcopy=False, states=WAITING)
    assert copied is not held and copied == held
    both = (TrialState.WAITING, TrialState.RUNNING)
    assert [t.number for t in storage.get_all_trials(study._study_id, states=both)] == [0]
    with pytest.raises(KeyError):
        storage.get_all_trials(study._study_id + 1, states=WAITING)


def test_a_pickled_copy_reads_the_journal_afresh(
    two_writers: tuple[optuna.Study, optuna.Study],
) -> None:
    study, other = two_writers
    study.enqueue_trial({"x": 0.3})
    assert waiting_numbers(study._storage, study._study_id) == [0]
    sent = pickle.dumps(study._storage)  # as a joblib worker receives it
    # no trials travel with it (Optuna's own sends none): only the index's few numbers
    assert len(sent) <= len(pickle.dumps(other._storage)) + 200
    copy = pickle.loads(sent)
    other.enqueue_trial({"x": 0.4})
    assert waiting_numbers(copy, study._study_id) == [0, 1]
