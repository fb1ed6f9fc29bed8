"""A PBT sweep's population: every member's segments, what runs next, and the winner's
schedule. Pure bookkeeping over `Segment` records; the study holds each one as the user
attribute PBT_ATTR of the segment's trial, so a resumed sweep rebuilds the population
from the study alone (`Population.of_trials`).

    member 0   |seg 0: lr .01|seg 1: lr .012|seg 2 ...        (continued its own state)
    member 1   |seg 0: lr .3 |seg 1: lr .012 <- exploited member 0 at epoch 5

A segment's record: member, index, the epochs it covers (start, end], its
hyperparameters, its job and trial numbers, the member whose state it started from
(`exploited_from`, None when it continued its own) and that state's job, and once it
ended, its status and value at its end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from optuna.trial import FrozenTrial

from hpsweep.search.pbt import PBTSettings, boundaries, decision_rng, exploit_source, explore

# The study's record of a segment (a user attribute of its trial).
PBT_ATTR = "hpsweep_pbt"
REACHED_END = "complete"  # a segment that trained to its end: its member goes on


@dataclass
class Segment:
    member: int
    index: int
    start: int  # epochs trained before it
    end: int  # the epoch it ends at
    params: dict[str, Any]
    job: int
    trial: int
    exploited_from: int | None = None
    source_job: int | None = None  # whose saved state it starts from (None: epoch 0)
    status: str | None = None  # None while it runs
    value: float | None = None

    def attrs(self) -> dict[str, Any]:
        """Its record in the study (the outcome is the trial's own state and value)."""
        record = asdict(self)
        del record["status"], record["value"], record["params"], record["trial"]
        return record


@dataclass
class Population:
    settings: PBTSettings
    direction: str
    seed: int | None
    segments: list[Segment] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        assert self.settings.epochs is not None
        return self.settings.epochs

    @classmethod
    def of_trials(
        cls,
        settings: PBTSettings,
        direction: str,
        seed: int | None,
        trials: Iterable[FrozenTrial],
        status_of: Any,
    ) -> Population:
        """The population a study holds (a resumed sweep): each trial with a segment
        record, its status the one `status_of(trial)` gives (None: still running)."""
        population = cls(settings, direction, seed)
        for trial in sorted(trials, key=lambda t: t.number):
            record = trial.user_attrs.get(PBT_ATTR)
            if record is None:
                continue
            segment = Segment(**record, params=dict(trial.params), trial=trial.number)
            segment.status = status_of(trial)
            segment.value = trial.value if segment.status is not None else None
            population.segments.append(segment)
        return population

    def of(self, member: int) -> list[Segment]:
        return [s for s in self.segments if s.member == member]

    def last(self, member: int) -> Segment | None:
        own = self.of(member)
        return own[-1] if own else None

    def by_job(self, job: int) -> Segment:
        return next(s for s in self.segments if s.job == job)

    def ready(self) -> list[int]:
        """Members whose next segment can start now, the least trained first: those not
        started, and those whose last segment reached its end before the last epoch."""
        waiting = []
        for member in range(self.settings.population):
            last = self.last(member)
            if last is None:
                waiting.append((0, member))
            elif self._goes_on(last):
                waiting.append((last.end, member))
        return [member for _, member in sorted(waiting)]

    def states_done_with(self) -> list[Segment]:
        """Ended segments whose saved states nothing can start from any more: every
        member still training has finished a segment past their epoch (a member
        exploits only at the epoch it reached, and continues only from its last)."""
        frontier = []
        for member in range(self.settings.population):
            own = self.of(member)
            if own and own[-1].status is not None and not self._goes_on(own[-1]):
                continue  # it is done: it needs no state
            ended = [s.end for s in own if s.status is not None]
            frontier.append(max(ended, default=0))
        last = min(frontier, default=self.epochs + 1)
        return [s for s in self.segments if s.status is not None and s.end < last]

    def _goes_on(self, segment: Segment) -> bool:
        return segment.status == REACHED_END and segment.end < self.epochs

    def scores_at(self, end: int) -> dict[int, float]:
        """Each member's value at epoch `end`, for those whose segment ending there
        reached it (so its state there is saved)."""
        return {
            s.member: s.value
            for s in self.segments
            if s.end == end and s.status == REACHED_END and s.value is not None
        }

    def next_segment(self, member: int, distributions: dict[str, Any]) -> Segment:
        """The member's next segment, decided now against the population's scores at
        its last end (without job and trial numbers yet: -1)."""
        last = self.last(member)
        index = 0 if last is None else last.index + 1
        start = 0 if last is None else last.end
        end = next(e for e in boundaries(self.epochs, self.settings.interval) if e > start)
        if last is None:  # the first population: its parameters come from the sampler
            return Segment(member, index, start, end, {}, -1, -1)
        rng = decision_rng(self.seed, member, index)
        scores = self.scores_at(start)
        source = exploit_source(member, scores, self.settings.quantile, self.direction, rng)
        if source is None:
            return Segment(member, index, start, end, dict(last.params), -1, -1, None, last.job)
        donor = next(s for s in self.segments if s.member == source and s.end == start)
        params = explore(donor.params, distributions, self.settings.resample_probability, rng)
        return Segment(member, index, start, end, params, -1, -1, source, donor.job)

    def best(self) -> Segment | None:
        """The member's last segment with the best value at the last epoch."""
        finals = [
            s
            for s in self.segments
            if s.end == self.epochs and s.status == REACHED_END and s.value is not None
        ]
        if not finals:
            return None
        sign = -1.0 if self.direction == "maximize" else 1.0
        return min(finals, key=lambda s: (sign * (s.value or 0.0), s.member))

    def lineage(self, segment: Segment) -> list[Segment]:
        """The segments whose training the segment's state holds, first to last: its
        own, then back through the state it started from (an exploited member's)."""
        chain = [segment]
        while chain[-1].source_job is not None:
            chain.append(self.by_job(chain[-1].source_job))
        return chain[::-1]


def schedule_of(lineage: list[Segment]) -> list[dict[str, Any]]:
    """The hyperparameters per range of epochs, consecutive equal ones merged."""
    schedule: list[dict[str, Any]] = []
    for segment in lineage:
        if schedule and schedule[-1]["params"] == segment.params:
            schedule[-1]["to_epoch"] = segment.end
        else:
            schedule.append(
                {"from_epoch": segment.start + 1, "to_epoch": segment.end, "params": segment.params}
            )
    return schedule
