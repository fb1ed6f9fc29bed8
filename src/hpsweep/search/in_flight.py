"""The sweep loop: n_jobs jobs in flight, each configuration recorded the moment its
last job ends. Optuna's `study/_optimize.py` does the same for a function in threads
("submit until n_jobs are running, wait for the first to end"); this is that loop
around a Hydra launcher (hpsweep.search.dispatch), with jobs that may be repeats of one
configuration:

    while True:
        for slot in dispatcher.free_slots():      # submit until n_jobs are in flight
            job = next_job()                       # a repeat of an asked configuration,
            if job is None: break                  #   else the first job of a new one
            dispatcher.start(job)
        if not dispatcher.busy: break              # nothing left to ask, nothing running
        for job, ret in dispatcher.wait_any():     # wait for the first to end
            if its configuration's last job: record it

A resumed sweep first re-launches the configurations a cut left RUNNING (`resumed`),
each into its own job folders (the same job numbers), where its jobs continue from
their saved states; only then does it ask the study for new trials. A job whose
worker died (kill -9, out of memory: the launcher's call raised) is launched again the
same way, at once, up to MAX_RELAUNCHES times.

Signals (hpsweep.sweep.interruption.DeferredInterrupts) are raised at once only while
the loop waits for jobs or runs one in process; anywhere else they wait, so no write to
the study is torn. On one, the jobs that ended are recorded as they ended, the jobs in
flight are stopped (each saves its state first), every configuration they ended is
recorded, and one they cut stays RUNNING for the next session (hpsweep.search.recording);
then the interrupt is re-raised.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import optuna
from hydra.core.utils import JobReturn, JobStatus

from hpsweep.search.bookkeeping import JOB_ATTR
from hpsweep.search.configuration import Configuration
from hpsweep.search.dispatch import Dispatcher, Job, LostJob
from hpsweep.search.plan import SweepPlan
from hpsweep.search.racing import Race
from hpsweep.search.repeats import job_numbers, seed_overrides
from hpsweep.search.returns_on_disk import kept
from hpsweep.search.space import sample
from hpsweep.sweep.channel import register_job, registered_jobs
from hpsweep.sweep.interruption import DeferredInterrupts
from hpsweep.sweep.outcome import FINISHED, outcome_of_job


class TooManyFailures(Exception):
    """More configurations failed than hydra.sweeper.max_failure_rate allows."""

    def __init__(self, failures: int, recorded: int) -> None:
        super().__init__(f"{failures} of {recorded} trials failed")
        self.failures, self.recorded = failures, recorded


log = logging.getLogger(__name__)

# Launches of one job after its worker died, before it is recorded failed.
MAX_RELAUNCHES = 2


class InFlight:
    """One sweep session's loop (see the module's docstring).

    `ask()` gives the next trial (None: n_trials are claimed); `record(configuration)`
    records a configuration whose jobs all ended and says whether it failed;
    `record_cut(configuration, interrupt)` records one in flight at a signal and says
    whether it was cut, left RUNNING to continue on resume (`cut`: their trial numbers).
    """

    def __init__(
        self,
        plan: SweepPlan,
        sweep_dir: Path,
        dispatcher: Dispatcher,
        ask: Callable[[], optuna.Trial | None],
        record: Callable[[Configuration], bool],
        record_cut: Callable[[Configuration, KeyboardInterrupt], bool],
        max_failure_rate: float,
        resumed: list[optuna.Trial] | None = None,
        race: Race | None = None,
    ) -> None:
        self.plan, self.sweep_dir, self.dispatcher = plan, sweep_dir, dispatcher
        self.resumed = list(resumed or [])  # cut trials of an earlier session, run first
        self.ask, self.record, self.record_cut = ask, record, record_cut
        self.max_failure_rate = max_failure_rate
        self.race = race  # hydra.sweeper.repeats=adaptive: who gets another seed
        self.running: dict[int, Configuration] = {}  # trial number -> its jobs, until all end
        self.waiting: list[Job] = []  # jobs of asked configurations, not yet started
        # job number -> its JobReturn, for Hydra; configs left on disk (returns_on_disk)
        self.returns: dict[int, Any] = {}
        self.recorded = self.failures = 0
        self.cut: list[int] = []  # trials a signal cut off, left to resume
        self.relaunches = Relaunches()  # jobs launched again after a lost worker
        # job number -> trial number, as registered in the sweep folder: read once, then
        # kept here (reading every job's file for each new trial grew with the sweep).
        self.jobs = registered_jobs(sweep_dir)
        self.next_number = 1 + max(self.jobs, default=-1)  # never reuse another's folder
        self.interrupts = DeferredInterrupts()

    def run(self) -> None:
        """Run until every trial is recorded; a signal is re-raised once recorded."""
        drive(self)

    def fill_free_slots(self) -> None:
        for slot in self.dispatcher.free_slots():
            self.interrupts.raise_pending()  # before a trial is asked: none half-started
            job = self.next_job()
            if job is None:
                return
            job = dataclasses.replace(job, slot=slot)
            register_job(self.sweep_dir, job.number, job.trial.number, slot, job.repeat)
            self.dispatcher.claim(job)
            with self.interrupts.allowed():
                self.dispatcher.start(job)

    def next_job(self) -> Job | None:
        """A waiting repeat, else the first job of a cut configuration to resume, else
        of a newly asked one."""
        if not self.waiting:  # a racing configuration's next seed waits here too
            if self.resumed:
                self.queue(self.resumed.pop(0), resumed=True)
            else:
                trial = self.ask()
                if trial is None:
                    return None
                self.queue(trial)
        return self.waiting.pop(0)

    def queue(self, trial: optuna.Trial, resumed: bool = False) -> None:
        """A trial's configuration and its jobs, one per repeat (one without repeats,
        one to start a race), each registered with its trial and seed: a new trial's at
        the next free job numbers, a resumed one's at its own (its folders, its saved
        states; a race's every seed it had reached)."""
        repeats = self.plan.repeats
        # A resumed trial's suggest calls return the values it already holds.
        overrides = [*self.plan.space.fixed, *trial_overrides(sample(trial, self.plan.space))]
        numbers = sorted(n for n, t in self.jobs.items() if t == trial.number) if resumed else []
        if not numbers or (not repeats.adaptive and len(numbers) != repeats.repeats):
            numbers = job_numbers(self.next_number, 0, repeats)
            self.next_number = numbers[-1] + 1
        configuration = Configuration(trial, overrides, numbers)
        self.running[trial.number] = configuration
        for repeat, number in enumerate(numbers):
            self.queue_seed(configuration, repeat, number)
        trial.set_user_attr(JOB_ATTR, numbers[0])

    def queue_seed(self, configuration: Configuration, repeat: int, number: int) -> None:
        """Job `number` runs repeat `repeat` of the configuration, registered first."""
        repeats, trial = self.plan.repeats, configuration.trial
        seed = repeat if repeats.seeded else None
        register_job(self.sweep_dir, number, trial.number, repeat=seed)
        self.jobs[number] = trial.number
        job_overrides = seed_overrides(configuration.overrides, repeats, repeat)
        self.waiting.append(Job(number, job_overrides, -1, trial, seed))

    def races_on(self, configuration: Configuration) -> bool:
        """Racing: whether the configuration, whose jobs so far all ended, gets another
        seed (hpsweep.search.racing); if so, its job is queued ahead of new trials, so
        that a race is settled soon and the study told. Not while a signal stops the
        sweep, and not after a seed that did not finish (pruned, diverged, failed)."""
        if self.race is None:
            return False
        outcomes = [outcome_of_job(ret) for ret in configuration.returns()]
        if any(o.status not in FINISHED or o.value is None for o in outcomes):
            return False
        number = configuration.trial.number
        self.race.set_values(number, [o.value for o in outcomes if o.value is not None])
        if not self.race.another_seed(number):
            return False
        configuration.numbers.append(self.next_number)
        self.next_number += 1
        self.queue_seed(configuration, len(configuration.numbers) - 1, configuration.numbers[-1])
        return True

    def end(self, ended: list[tuple[Job, Any]]) -> None:
        """Record each configuration whose last job is among those that `ended`; a job
        whose worker died is launched again (`relaunch`)."""
        for job, job_return in ended:
            if isinstance(job_return, LostJob):
                job_return = self.relaunch(job, job_return)
                if job_return is None:
                    continue
            configuration = self.running[job.trial.number]
            if not configuration.end(job.number, job_return) or self.races_on(configuration):
                continue
            del self.running[job.trial.number]
            self.failures += self.record(configuration)
            for number, job_return in zip(
                configuration.numbers, configuration.returns(), strict=True
            ):
                self.returns[number] = kept(job_return)
            self.recorded += 1
        if self.failures / max(self.recorded, 1) > self.max_failure_rate:
            self.dispatcher.stop()
            raise TooManyFailures(self.failures, self.recorded)

    def relaunch(self, job: Job, lost: LostJob) -> JobReturn | None:
        """A job whose worker died goes back to the head of the queue, into its own
        folder, where it continues from its last saved state; after MAX_RELAUNCHES it
        is failed (a job that kills its worker each time: a crash, out of memory).
        Returns the failed JobReturn then, else None."""
        failed = self.relaunches.failed(job, lost)
        if failed is None:
            self.waiting.insert(0, job)
        return failed

    def stop(self, interrupt: KeyboardInterrupt) -> None:
        """Jobs that ended before the signal are recorded as they ended; those in flight
        are stopped (in workers: ended here; in process, the job recorded its own
        interruption as it unwound); every configuration not recorded yet is recorded as
        the signal left it: ended, or cut and left RUNNING to resume."""
        for job, job_return in self.dispatcher.take_finished():
            configuration = self.running[job.trial.number]
            if configuration.end(job.number, job_return):
                del self.running[job.trial.number]
                self.record(configuration)
        self.dispatcher.stop()
        for configuration in sorted(self.running.values(), key=lambda c: c.first_job):
            if self.record_cut(configuration, interrupt):
                self.cut.append(configuration.trial.number)


class SweepLoop(Protocol):
    """What `drive` runs: InFlight, and PBT's PopulationLoop."""

    dispatcher: Dispatcher
    interrupts: DeferredInterrupts

    def fill_free_slots(self) -> None: ...

    def end(self, ended: list[tuple[Job, Any]]) -> None: ...

    def stop(self, interrupt: KeyboardInterrupt) -> None: ...


def drive(loop: SweepLoop) -> None:
    """Fill free slots, wait for the first job to end, hand it to `end`; until nothing
    is left to start and nothing runs. Signals are raised only while it waits
    (DeferredInterrupts); then `stop` records what the signal left, and it re-raises."""
    with loop.interrupts.installed():
        try:
            while True:
                loop.fill_free_slots()
                if not loop.dispatcher.busy:
                    return
                with loop.interrupts.allowed():
                    ended = loop.dispatcher.wait_any()
                loop.end(ended)
        except KeyboardInterrupt as interrupt:
            loop.stop(interrupt)
            raise


class Relaunches:
    """How often each job was launched again after its worker died (kill -9, out of
    memory, a lost node), for both sweep loops: up to MAX_RELAUNCHES, then failed."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}  # job number -> launches after a lost worker

    def failed(self, job: Job, lost: LostJob) -> JobReturn | None:
        """None: the caller launches the job again (counted and logged); else the
        failed JobReturn to record, its MAX_RELAUNCHES spent."""
        first_sentence = " ".join(str(lost.error).split()).split(". ")[0][:200]
        reason = f"{type(lost.error).__name__}: {first_sentence}"
        tries = self.counts.get(job.number, 0)
        if tries >= MAX_RELAUNCHES:
            log.warning("job %d: its launch failed again (%s): recorded failed", job.number, reason)
            return JobReturn(status=JobStatus.FAILED, _return_value=lost.error)
        self.counts[job.number] = tries + 1
        log.warning(
            "job %d: its launch failed (%s): launched again, it continues from its last save",
            job.number,
            reason,
        )
        return None


def trial_overrides(params: dict[str, Any]) -> list[str]:
    return [f"{key}={value}" for key, value in params.items()]
