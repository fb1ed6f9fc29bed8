"""Optuna's JournalStorage, answering the one query each `Study.ask()` makes without a
pass over every trial.

Before it creates a trial, `Study.ask()` looks for a WAITING one (an `enqueue_trial`
queued it) with `get_all_trials(states=(WAITING,))`, and JournalStorage answers that by
checking the state of every trial in the study. In a sweep process those trials lie
scattered in memory (the journal's replay copies a trial on each update), and the pass
grew to ~6 ms of a trial's ~45 at 10,000 trials (bench/study_scale.py; issue "Flat cost
as the study grows"). Optuna creates a trial WAITING or never makes it WAITING later
(`enqueue_trial` and `add_trial` create it so; `ask` and `tell` move it on), so the
waiting trials are among the ones created since the last query and the ones waiting at
it: this storage checks only those. Every other query is Optuna's own.

It reads JournalStorage's replay (`_replay_result`), which Optuna keeps private;
tests/test_journal_storage.py checks its answers against Optuna's own.
"""

from __future__ import annotations

import copy
from collections.abc import Container
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState


class WaitingIndexJournalStorage(optuna.storages.JournalStorage):
    """A JournalStorage that keeps, per study, how many of its trials it has checked for
    WAITING and which of those were waiting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reset_waiting_index()

    # A new replay (unpickled in a worker, or restored from a snapshot) has its trials
    # checked afresh. The index holds trial ids, never the replay itself: pickling this
    # storage sends no trials, as Optuna's own sends none.
    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._reset_waiting_index()

    def restore_replay_result(self, snapshot: bytes) -> None:
        super().restore_replay_result(snapshot)
        self._reset_waiting_index()

    def _reset_waiting_index(self) -> None:
        self._checked: dict[int, int] = {}  # study id -> trials checked, in creation order
        self._waiting: dict[int, list[int]] = {}  # study id -> ids waiting when checked

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        if not isinstance(states, tuple) or states != (TrialState.WAITING,):
            return super().get_all_trials(study_id, deepcopy, states)
        with self._thread_lock:
            self._sync_with_backend()
            waiting = self._waiting_trials(study_id)
        return copy.deepcopy(waiting) if deepcopy else waiting

    def _waiting_trials(self, study_id: int) -> list[FrozenTrial]:
        replay = self._replay_result
        if study_id not in replay._study_id_to_trial_ids:
            return replay.get_all_trials(study_id, (TrialState.WAITING,))  # Optuna's KeyError
        trial_ids = replay._study_id_to_trial_ids[study_id]
        checked = self._checked.get(study_id, 0)
        candidates = [*self._waiting.get(study_id, []), *trial_ids[checked:]]
        waiting = [i for i in candidates if replay._trials[i].state == TrialState.WAITING]
        self._checked[study_id], self._waiting[study_id] = len(trial_ids), waiting
        return [replay._trials[i] for i in waiting]
