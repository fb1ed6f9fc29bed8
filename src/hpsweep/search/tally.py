"""What the progress line shows of a study: trials done, counts per status word, the
best so far; read from the whole study now and then, kept up to date in between.

Reading every trial after each one ends cost the sweep time in proportion to the
study's size (four scans a trial: 0.3 ms at 1,000 trials, growing without end), so
the tally reads the study (trials of other processes sharing it included) at most
every REFRESH_SECONDS and otherwise adds the trial that just ended:

    tally = StudyTally.read(study)               # one pass over the trials
    tally.add(7, "pruned", study_value=None)     # trial 7 was running: now pruned
    tally.done, tally.counts, tally.best_text()  # [done/total] best 0.1 (trial 2); ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optuna.study import StudyDirection
from optuna.trial import TrialState

from hpsweep.search.bookkeeping import FINISHED_STATES, STATUS_ATTR, counted

REFRESH_SECONDS = 10.0
RUNNING = TrialState.RUNNING.name.lower()


@dataclass
class StudyTally:
    minimize: bool
    several: bool = False  # several objectives
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # status word -> trials
    best: tuple[float, int] | None = None  # (value, trial number) of the best COMPLETE
    running: set[int] = field(default_factory=set)  # counted as running at the last read

    @classmethod
    def read(cls, study: Any) -> StudyTally:
        """One pass over the study's trials that count (bookkeeping.counted)."""
        several = len(study.directions) > 1  # no one best: the summary shows the front
        tally = cls(minimize=study.directions[0] == StudyDirection.MINIMIZE, several=several)
        for trial in counted(study.get_trials(deepcopy=False)):
            word = trial.user_attrs.get(STATUS_ATTR) or trial.state.name.lower()
            tally.counts[word] = tally.counts.get(word, 0) + 1
            if trial.state == TrialState.RUNNING:
                tally.running.add(trial.number)
            tally.done += trial.state in FINISHED_STATES
            if trial.state == TrialState.COMPLETE and not several:
                tally.consider(trial.value, trial.number)
        return tally

    def add(self, number: int, word: str, study_value: float | list[float] | None) -> None:
        """Trial `number` ended as `word`; `study_value` is what the study was told (a
        value only for a COMPLETE trial)."""
        if number in self.running:  # the last read counted it as running
            self.running.discard(number)
            self.counts[RUNNING] -= 1
            if not self.counts[RUNNING]:
                del self.counts[RUNNING]
        self.counts[word] = self.counts.get(word, 0) + 1
        self.done += 1
        if study_value is not None and not self.several:
            self.consider(study_value, number)

    def consider(self, value: float, number: int) -> None:
        # Strictly better only: of equal values the first recorded stays, as Optuna
        # keeps the first of equal trials.
        if self.best is None or (value < self.best[0] if self.minimize else value > self.best[0]):
            self.best = (value, number)

    def best_text(self) -> str:
        if self.several:
            return "several objectives: the front is printed at the end"
        if self.best is None:
            return "no completed trial yet"
        value, number = self.best
        return f"best {value:.6g} (trial {number})"
