"""Population Based Training's loop: members' segments in flight, no generation barrier.

`hydra/sweeper=pbt` runs each member of the population as segments of
`hydra.sweeper.pbt.interval` epochs, each segment one job on Hydra's launcher (the
same Dispatcher as every sweep: n_jobs in flight, a free slot refilled the moment a
job ends). The moment a member's segment ends, it is recorded and the member is ready
again; its next segment is decided when a slot takes it, against the population's
scores at that epoch then (hpsweep.search.population):

    while True:
        for slot in free slots:
            member = the ready member with the fewest epochs (None: wait)
            segment = population.next_segment(member)    # continue, or exploit + explore
            launch its job: its trial, its hyperparameters, the state it starts from
        wait for the first job to end; record its segment

Each segment is one Optuna trial: its hyperparameters are the trial's params, its
epochs' values its intermediate values, its value at its end the trial's value (told
COMPLETE: the job stopped there on purpose, `SweepTrial.stop_at`), and its segment
record the user attribute PBT_ATTR. results.csv gets one row per segment from the same
outcome. A member is one TensorBoard run (`<sweep dir>/member_<m>`), continued by its
segments' jobs. A segment's job starts from a saved state: its member's last one, or
the state of the member it exploits at the same epoch (the job's own state folder
holds it only once it saves); it trains exactly its own epochs.

A signal stops the jobs in flight (each saves its state); the same command resumes:
the population is read back from the study and each cut segment continues in its own
job folder.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from hydra.core.utils import JobReturn
from optuna.trial import FrozenTrial, TrialState

from hpsweep.search.bookkeeping import JOB_ATTR, STATUS_ATTR
from hpsweep.search.dispatch import Dispatcher, Job, LostJob
from hpsweep.search.in_flight import Relaunches, TooManyFailures, drive, trial_overrides
from hpsweep.search.pbt import PBTSettings
from hpsweep.search.plan import SweepPlan
from hpsweep.search.population import PBT_ATTR, REACHED_END, Population, Segment
from hpsweep.search.recording import interrupted_outcome, is_cut
from hpsweep.search.space import sample
from hpsweep.sweep.channel import (
    MEMBER_DIR,
    register_job,
    registered_job_dir,
    registered_jobs,
)
from hpsweep.sweep.interruption import DeferredInterrupts
from hpsweep.sweep.outcome import RunStatus, TrialOutcome, outcome_of_job
from hpsweep.sweep.saved_state import STATE_DIR, STATE_FILE

log = logging.getLogger(__name__)


class NoSavedState(Exception):
    """A segment ended before the last epoch without saving a state to continue from."""

    def __init__(self, job: int) -> None:
        super().__init__(f"job {job} saved no state")
        self.job = job


# (segment, outcome, its job folder, its overrides) -> whether it failed
RecordSegment = Callable[[Segment, optuna.Trial, TrialOutcome, Path | None, list[str]], bool]


class PopulationLoop:
    def __init__(
        self,
        plan: SweepPlan,
        population: Population,
        sweep_dir: Path,
        dispatcher: Dispatcher,
        study: optuna.Study,
        record: RecordSegment,
        max_failure_rate: float,
        keep_state: bool = False,
    ) -> None:
        self.plan, self.population, self.sweep_dir = plan, population, sweep_dir
        self.dispatcher, self.study, self.record = dispatcher, study, record
        self.max_failure_rate = max_failure_rate
        self.keep_state = keep_state  # hydra.sweeper.keep_state: no state is removed
        self.released: set[int] = set()  # jobs whose states went (release_states)
        self.distributions = plan.space.distributions()
        self.trials: dict[int, optuna.Trial] = {}  # job number -> its segment's trial
        # Segments a cut left running (a resumed sweep): launched again first.
        self.resumed = [s for s in population.segments if s.status is None]
        for segment in self.resumed:
            self.trials[segment.job] = trial_of(study, segment.trial)
        # Never another's folder: a segment asked but cut before its job registered
        # keeps its number too.
        taken = [*registered_jobs(sweep_dir), *(s.job for s in population.segments)]
        self.next_number = 1 + max(taken, default=-1)
        self.recorded = self.failures = 0
        self.returns: dict[int, Any] = {}  # job number -> JobReturn, for Hydra
        self.cut: list[int] = []
        self.relaunches = Relaunches()  # jobs launched again after a lost worker
        self.interrupts = DeferredInterrupts()

    def run(self) -> None:
        """Run until every member trained its epochs; a signal is re-raised once the
        segments it left are recorded or left to resume."""
        self.release_states()  # a resumed sweep's, if its last session ended before
        drive(self)

    def fill_free_slots(self) -> None:
        for slot in self.dispatcher.free_slots():
            self.interrupts.raise_pending()
            segment = self.resumed.pop(0) if self.resumed else self.next_segment()
            if segment is None:
                return
            job = self.job_of(segment, slot)
            self.dispatcher.claim(job)
            with self.interrupts.allowed():
                self.dispatcher.start(job)

    def next_segment(self) -> Segment | None:
        """The next segment of the ready member with the fewest epochs, decided now,
        with its trial asked: the first population's parameters from the sampler, a
        later segment's enqueued (the decision's) and asked."""
        ready = self.population.ready()
        if not ready:
            return None
        segment = self.population.next_segment(ready[0], self.distributions)
        if segment.params:
            self.study.enqueue_trial(segment.params)
        trial = self.study.ask()
        segment.params = sample(trial, self.plan.space)
        segment.job, segment.trial = self.next_number, trial.number
        self.next_number += 1
        trial.set_user_attr(PBT_ATTR, segment.attrs())
        trial.set_user_attr(JOB_ATTR, segment.job)
        self.trials[segment.job] = trial
        self.population.segments.append(segment)
        if segment.exploited_from is not None:
            log.info(
                "member %d exploits member %d at epoch %d: %s",
                segment.member,
                segment.exploited_from,
                segment.start,
                " ".join(trial_overrides(segment.params)),
            )
        return segment

    def job_of(self, segment: Segment, slot: int) -> Job:
        """The segment's job, registered with what its SweepTrial needs."""
        source = self.state_dir(segment.source_job) if segment.source_job is not None else None
        registration = {
            "member": segment.member,
            "start": segment.start,
            # Also the last segment's end: an app may run longer than the member does.
            "stop_at": segment.end,
            "starts_from": None if source is None else str(source),
            "exploited_from": segment.exploited_from,
            "log_dir": str((self.sweep_dir / MEMBER_DIR.format(segment.member)).resolve()),
            "params": segment.params,
        }
        trial = self.trials[segment.job]
        register_job(self.sweep_dir, segment.job, trial.number, slot, segment=registration)
        return Job(segment.job, self.overrides(segment), slot, trial)

    def overrides(self, segment: Segment) -> list[str]:
        return [*self.plan.space.fixed, *trial_overrides(segment.params)]

    def state_dir(self, job: int) -> Path:
        job_dir = registered_job_dir(self.sweep_dir, job)
        assert job_dir is not None, f"job {job} ended, so it registered its folder"
        return job_dir / STATE_DIR

    def end(self, ended: list[tuple[Job, Any]]) -> None:
        for job, job_return in ended:
            if isinstance(job_return, LostJob):
                job_return = self.relaunch(job, job_return)
                if job_return is None:
                    continue
            self.returns[job.number] = job_return
            self.finish_segment(self.population.by_job(job.number), outcome_of_job(job_return))
        if self.failures / max(self.recorded, 1) > self.max_failure_rate:
            self.dispatcher.stop()
            raise TooManyFailures(self.failures, self.recorded)

    def relaunch(self, job: Job, lost: LostJob) -> JobReturn | None:
        """A segment whose worker died goes back to the head of the queue, into its own
        folder, where it continues from its last save; after MAX_RELAUNCHES it is
        failed (returned, to be recorded)."""
        failed = self.relaunches.failed(job, lost)
        if failed is None:
            self.resumed.insert(0, self.population.by_job(job.number))
        return failed

    def finish_segment(self, segment: Segment, outcome: TrialOutcome) -> None:
        """Record a segment that ended: told, one row, the population updated."""
        job_dir = registered_job_dir(self.sweep_dir, segment.job)
        as_segment = segment_outcome(segment, outcome)
        trial = self.trials.pop(segment.job)
        self.failures += self.record(segment, trial, as_segment, job_dir, self.overrides(segment))
        self.recorded += 1
        # Then the job's record says what its row says (after: a sweep killed between
        # the two finds the job's own record, and converts it once, on resume).
        if job_dir is not None and as_segment != outcome and TrialOutcome.read(job_dir):
            as_segment.write(job_dir)
        outcome = as_segment
        segment.status, segment.value = str(outcome.status), outcome.value
        if segment.status == REACHED_END and segment.end < self.population.epochs:
            state = None if job_dir is None else job_dir / STATE_DIR / STATE_FILE
            if state is None or not state.is_file():
                self.dispatcher.stop()
                raise NoSavedState(segment.job)
        self.release_states()

    def release_states(self) -> None:
        """Remove the saved states no member can start from any more, as the
        population moves on: disk holds about two epochs' states of the population,
        not one per segment (unless hydra.sweeper.keep_state)."""
        if self.keep_state:
            return
        for segment in self.population.states_done_with():
            if segment.job in self.released:
                continue
            job_dir = registered_job_dir(self.sweep_dir, segment.job)
            if job_dir is not None:
                shutil.rmtree(job_dir / STATE_DIR, ignore_errors=True)
            self.released.add(segment.job)

    def stop(self, interrupt: KeyboardInterrupt) -> None:
        """A signal: jobs that ended are recorded; those in flight are stopped, and each
        segment they cut stays RUNNING for the next session."""
        for job, job_return in self.dispatcher.take_finished():
            self.returns[job.number] = job_return
            self.finish_segment(self.population.by_job(job.number), outcome_of_job(job_return))
        self.dispatcher.stop()
        for number in sorted(self.trials):
            segment = self.population.by_job(number)
            job_dir = registered_job_dir(self.sweep_dir, number)
            recorded = TrialOutcome.read(job_dir) if job_dir is not None else None
            outcome = interrupted_outcome(recorded, interrupt)
            if is_cut(outcome):
                self.cut.append(segment.trial)
            else:
                self.finish_segment(segment, outcome)


def segment_outcome(segment: Segment, outcome: TrialOutcome) -> TrialOutcome:
    """A segment's job that stopped at the segment's end (its trial said `prune` there:
    SweepTrial.stop_at) trained all it meant to: complete, with its value there. Its
    epochs are the segment's own."""
    if outcome.status == RunStatus.PRUNED and outcome.pruned_at == segment.end:
        outcome = dataclasses.replace(outcome, status=RunStatus.COMPLETE, pruned_at=None)
    if outcome.epochs is not None:
        outcome = dataclasses.replace(outcome, epochs=max(0, outcome.epochs - segment.start))
    return outcome


def trial_of(study: optuna.Study, number: int) -> optuna.Trial:
    frozen = study.get_trials(deepcopy=False)[number]
    return optuna.trial.Trial(study, frozen._trial_id)  # Optuna's own way, from the id


def segment_status(trial: FrozenTrial) -> str | None:
    """A segment's status as recorded, or None while it runs (or a cut left it)."""
    if trial.state == TrialState.RUNNING:
        return None
    return trial.user_attrs.get(STATUS_ATTR, str(RunStatus.FAILED))


def population_of(
    settings: PBTSettings, direction: str, seed: int | None, study: optuna.Study
) -> Population:
    """The population the study holds: empty for a new sweep, read back when resumed."""
    trials = study.get_trials(deepcopy=False)
    return Population.of_trials(settings, direction, seed, trials, segment_status)
