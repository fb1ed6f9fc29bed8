"""The hpsweep sweep loop: Optuna's ask/tell around Hydra's launcher.

Example: `python train.py -m optimizer=adam,sgd 'optimizer.lr=tag(log,interval(1e-4,1e-1))'`
parses to {optimizer: Categorical(adam, sgd), optimizer.lr: Float(1e-4, 0.1, log)}.
An interval makes the space infinite, so `search: auto` samples `n_trials` with the
configured sampler; `-m optimizer=adam,sgd model=mlp,cnn` alone is finite and runs
each of the 4 combinations once. Each asked trial becomes one job's overrides; the
sweep folder maps the job's number to its trial (hpsweep.sweep.channel), through
which the job reports every epoch to the study and the pruner can stop it. Each job
records its outcome (hpsweep.sweep.outcome) and the study is told exactly that; the
sweeper then writes the trial's results.csv row from it (_recording), for any app.

With `hydra.sweeper.repeats=k` (_repeats) a trial is one configuration run as k
consecutive jobs over seeds; the lines marked [repeats] expand it into its jobs
(jobs_of, job_numbers), register each job's (trial, repeat), and tell the study once,
from the aggregate of the k outcomes (configuration_outcome), one row per trial.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import optuna
from hydra.core.utils import JobReturn
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from hpsweep.sweep.channel import (
    DEFAULT_STUDY_NAME,
    JOURNAL_FILE,
    register_job,
    registered_jobs,
    write_channel,
)
from hpsweep.sweep.interruption import DeferredInterrupts, signal_of
from hpsweep.sweep.job import RecordedTask
from hpsweep.sweep.outcome import RunStatus, TrialOutcome, outcome_of_job
from hpsweep.sweep.settings import check_settings
from hpsweep.sweep.spec import SweepSpec
from hpsweep.sweep.storage import conceal_storage_password, mask_password, open_or_exit
from hydra_plugins.hpsweep_sweeper._bookkeeping import (
    JOB_ATTR,
    REQUEUED_ATTR,
    STATUS_ATTR,
    SURPLUS_ATTR,
    claimed_numbers,
    counted,
    cut_off,
    done_count,
    sampler_seed,
    surplus,
    tell_arguments,
)
from hydra_plugins.hpsweep_sweeper._compose_once import ComposeOnceConfigLoader
from hydra_plugins.hpsweep_sweeper._dispatch import Dispatcher, Job
from hydra_plugins.hpsweep_sweeper._progress import SweepProgress
from hydra_plugins.hpsweep_sweeper._recording import SweepRecorder
from hydra_plugins.hpsweep_sweeper._repeats import (
    REPEATS_ATTR,
    RepeatPlan,
    configuration_outcome,
    job_numbers,
    jobs_of,
)
from hydra_plugins.hpsweep_sweeper._search_space import (
    SearchSpace,
    combinations,
    describe,
    grid_combinations,
    is_finite,
    sample,
    search_space,
)

log = logging.getLogger(__name__)


def trial_overrides(params: dict[str, Any]) -> list[str]:
    return [f"{key}={value}" for key, value in params.items()]


def trials_in_storage(storage: Any, study_name: str) -> int:
    """How many trials the study already holds (0 if it does not exist yet)."""
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    return len(storage.get_all_trials(study_id, deepcopy=False))


def intervals(space: SearchSpace) -> dict[str, Any]:
    """The parameters searched over a range of numbers (not a list of choices)."""
    return {
        name: d
        for name, d in space.distributions().items()
        if not isinstance(d, CategoricalDistribution)
    }


@dataclass
class Configuration:
    """One asked trial in flight: its configuration's overrides and its jobs (one, or
    one per repeat), and what those jobs returned so far."""

    trial: optuna.Trial
    overrides: list[str]
    numbers: list[int]
    ended: dict[int, JobReturn] = field(default_factory=dict)

    def end(self, number: int, ret: JobReturn) -> Configuration | None:
        """Record one job's return; the configuration once its last job has ended."""
        self.ended[number] = ret
        return self if len(self.ended) == len(self.numbers) else None

    def returns(self) -> list[JobReturn]:
        return [self.ended[number] for number in self.numbers]


class HpsweepSweeperImpl(Sweeper):
    def __init__(
        self,
        sampler: DictConfig,
        pruner: DictConfig,
        search: str,
        direction: str,
        n_trials: int,
        n_jobs: int,
        seed: int | None,
        storage: str | None,
        study_name: str | None,
        max_failure_rate: float,
        params: DictConfig | None,
        conditional: DictConfig | None,
        dry_run: bool,
        report: bool = True,
        dispatch: str = "async",
        repeats: int = 1,
        seed_key: str = "trainer.seed",
        min_repeats: int | None = None,
    ) -> None:
        # The same check, with the same words, stops bad values at multirun start
        # (hpsweep.hydra_callbacks.validate), before any folder exists.
        check_settings(
            {
                "search": search,
                "direction": direction,
                "n_trials": n_trials,
                "n_jobs": n_jobs,
                "max_failure_rate": max_failure_rate,
                "dispatch": dispatch,
                "pruner": pruner,
                "repeats": repeats,
                "seed_key": seed_key,
                "min_repeats": min_repeats,
            }
        )
        self.sampler_config = sampler
        self.pruner_config = OmegaConf.to_container(pruner, resolve=True)
        self.search = search
        self.direction = direction
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.seed = seed
        self.storage = storage
        self.study_name = study_name
        self.max_failure_rate = max_failure_rate
        self.params = OmegaConf.to_container(params) if params else {}
        self.conditional = OmegaConf.to_container(conditional) if conditional else {}
        self.dry_run = dry_run
        self.report = report
        self.dispatch = dispatch
        self.repeats, self.seed_key, self.min_repeats = repeats, seed_key, min_repeats

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        # The storage as the sweep records it, with no password in it (hpsweep.sweep.storage).
        self.storage = conceal_storage_password(config)
        # Jobs that differ only in values reuse one composition (see _compose_once).
        hydra_context = dataclasses.replace(
            hydra_context, config_loader=ComposeOnceConfigLoader(hydra_context.config_loader)
        )
        self.hydra_context = hydra_context
        # Every job runs with its trial current and records its outcome (hpsweep.sweep.job).
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=RecordedTask(task_function), config=config
        )

    def make_sampler(self, seed: int | None) -> Any:
        sampler_config = OmegaConf.to_container(self.sampler_config, resolve=True)
        if sampler_config.get("seed", 0) is None:
            sampler_config["seed"] = seed
        if self.n_jobs > 1 and sampler_config.get("constant_liar") is False:
            # Trials in flight: TPE pretends each running trial came out badly, so that
            # parallel proposals spread out instead of piling onto one spot.
            sampler_config["constant_liar"] = True
        with warnings.catch_warnings():
            # Optuna marks some samplers (qmc, gp) experimental and warns on every
            # construction; the user chose one by name, so the warning tells them nothing.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = instantiate(
                sampler_config,
                _execution_whitelist_=("optuna.samplers.*", "hydra_plugins.hydra_optuna_sweeper.*"),
            )
        if not isinstance(sampler, optuna.samplers.BaseSampler):
            raise ValueError(
                "hydra/sweeper/sampler=grid needs the space up front: "
                "use hydra.sweeper.search=grid (or auto) instead"
            )
        return sampler

    def plan(self, arguments: list[str]) -> tuple[SearchSpace, bool, int]:
        """(the search space, whether it runs as a grid, the number of trials)."""
        groups = [g for g in self.config.hydra.runtime.choices if not g.startswith("hydra")]
        spec = SweepSpec.parse(arguments, self.params, self.conditional, groups)
        space = search_space(spec)
        if self.search == "grid" and not space.is_finite():
            infinite = [k for k, d in space.distributions().items() if not is_finite(d)]
            raise ValueError(
                f"hydra.sweeper.search=grid needs finite lists; not finite: {', '.join(infinite)}"
            )
        if not space.distributions():
            return space, True, 1  # nothing to search: one run with the fixed overrides
        grid = space.is_finite() and self.search != "sample"
        return space, grid, len(grid_combinations(space)) if grid else self.n_trials

    def sweep(self, arguments: list[str]) -> list[list[JobReturn]]:
        space, grid, n_trials = self.plan(arguments)
        # [repeats] every configuration as `repeats` jobs over seeds (_repeats).
        repeat_plan = RepeatPlan.of(self.config, self.repeats, self.seed_key, self.min_repeats)
        if self.dry_run:
            self.print_plan(space, grid, n_trials)
            return []

        sweep_dir = Path(self.config.hydra.sweep.dir)
        storage_spec = self.storage or str((sweep_dir / JOURNAL_FILE).resolve())
        # First: a storage that cannot be opened stops with one line, leaving no folder.
        storage = open_or_exit(storage_spec)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        study_name = self.study_name or DEFAULT_STUDY_NAME
        pruner = instantiate(self.pruner_config, _execution_whitelist_=("optuna.pruners.*",))
        study = optuna.create_study(
            study_name=study_name,
            storage=storage,
            # A grid's trials are all enqueued below; the sampler then proposes nothing.
            sampler=self.make_sampler(
                sampler_seed(self.seed, trials_in_storage(storage, study_name))
            ),
            pruner=pruner,
            direction=self.direction,
            load_if_exists=True,
        )
        if grid and not study.get_trials(deepcopy=False):
            # Enqueued trials live in the storage, so a resumed sweep finds the rest.
            for combination in grid_combinations(space):
                study.enqueue_trial(combination)
        self.requeue_cut_off(study, sweep_dir)
        # Where the study lives, for the jobs (and for optuna-dashboard, `hpsweep report`).
        write_channel(sweep_dir, storage_spec, study_name, self.pruner_config, repeat_plan.repeats)
        recorder = SweepRecorder(self.config, report=self.report, repeats=repeat_plan.repeats)
        done = done_count(study.get_trials(deepcopy=False))
        shown_storage = mask_password(storage_spec)  # logs never show a password
        log.info(
            "hpsweep: %s, %d trials%s, %s, pruner %s; study '%s' in %s%s",
            "grid" if grid else type(study.sampler).__name__,
            n_trials,
            f" ({done} done before)" if done else "",
            self.direction,
            type(pruner).__name__,
            study_name,
            shown_storage,
            # The scale of each interval, said where the user looks first (spec.log_scale).
            "".join(f"; {name}: {describe(d)}" for name, d in intervals(space).items()),
        )

        failures = launched = 0
        running: dict[int, Configuration] = {}  # trial number -> its jobs, until all end
        waiting: list[Job] = []  # jobs of asked configurations, not yet started

        def queue_jobs(trial: optuna.Trial) -> None:
            """An asked trial's configuration and its jobs, queued: consecutive job
            numbers, one per repeat ([repeats]; repeats=1: one job)."""
            configuration = [*space.fixed, *trial_overrides(sample(trial, space))]
            first = 1 + max(registered_jobs(sweep_dir), default=-1)  # never reuse a folder
            numbers = job_numbers(first, 0, repeat_plan)
            running[trial.number] = Configuration(trial, configuration, numbers)
            jobs = jobs_of(configuration, repeat_plan)
            for repeat, (number, overrides) in enumerate(zip(numbers, jobs, strict=True)):
                seed = repeat if repeat_plan.repeats > 1 else None
                register_job(sweep_dir, number, trial.number, repeat=seed)
                waiting.append(Job(number, overrides, -1, trial, seed))
            trial.set_user_attr(JOB_ATTR, numbers[0])

        returns: list[JobReturn] = []
        self.progress = SweepProgress(n_trials, done_before=done)
        dispatcher = Dispatcher(self.launcher, self.n_jobs, barrier=self.dispatch == "batch")
        # SIGTERM (a scheduler, `kill`) stops a sweep as Ctrl-C does: at once while the
        # loop waits for jobs, or as soon as its own write to the study is done.
        interrupts = DeferredInterrupts()
        stack = contextlib.ExitStack()
        stack.enter_context(interrupts.installed())
        try:
            while True:
                # Fill every free slot with the next job: a repeat of a configuration
                # already asked, else the first job of a new one. Several processes may
                # share the study: what counts is the study's total, running trials of
                # the others included.
                for slot in dispatcher.free_slots():
                    interrupts.raise_pending()  # before a trial is asked: none half-started
                    if not waiting:
                        if len(claimed_numbers(study.get_trials(deepcopy=False))) >= n_trials:
                            break
                        asked = self.ask(study, 1, n_trials)
                        if not asked:
                            continue  # another process took the place
                        [trial] = asked
                        queue_jobs(trial)
                    job = dataclasses.replace(waiting.pop(0), slot=slot)
                    register_job(sweep_dir, job.number, job.trial.number, slot, job.repeat)
                    dispatcher.claim(job)
                    with interrupts.allowed():
                        dispatcher.start(job)
                if not dispatcher.busy:
                    break
                # Tell each configuration's outcome the moment its last job ends; the
                # slots are refilled above.
                with interrupts.allowed():
                    ended = dispatcher.wait_any()
                for job, ret in ended:
                    done_now = running[job.trial.number].end(job.number, ret)
                    if done_now is None:
                        continue
                    del running[job.trial.number]
                    failures += self.tell_configuration(study, done_now, repeat_plan, recorder)
                    returns.extend(done_now.returns())
                    launched += 1
                    self.log_progress(study, n_trials)
                if failures / max(launched, 1) > self.max_failure_rate:
                    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                    log.error(
                        "stopping the sweep: %s%d of %d trials failed, more than "
                        "hydra.sweeper.max_failure_rate=%s (see results.csv for the reasons)",
                        "" if completed else "no completed trials; ",
                        failures,
                        launched,
                        self.max_failure_rate,
                    )
                    dispatcher.stop()
                    raise SystemExit(1)
        except KeyboardInterrupt as interrupt:
            # Jobs that ended before the signal are told as they ended; the ones in flight
            # are stopped (in workers: ended here) and recorded as interrupted. In process,
            # the job that trained recorded its own interruption as it unwound.
            for job, ret in dispatcher.take_finished():
                done_now = running[job.trial.number].end(job.number, ret)
                if done_now is not None:
                    del running[job.trial.number]
                    self.tell_configuration(study, done_now, repeat_plan, recorder)
            dispatcher.stop()
            # Every configuration not told yet (a job of it cut off, or not yet started)
            # is interrupted: recorded once, queued again whole.
            cut = sorted(running.values(), key=lambda c: c.numbers[0])
            for configuration in cut:
                first = configuration.numbers[0]
                many = repeat_plan.repeats > 1
                recorder.record_interrupted(first, configuration.overrides, interrupt, many)
            self.stop_interrupted(study, [c.trial for c in cut], interrupt)
        finally:
            self.progress.close()
            stack.close()
            recorder.finish()  # best.yaml, summary, report: also when stopped early
        if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if self.max_failure_rate < 1:
                log.error("no completed trials in study '%s' (%s)", study_name, shown_storage)
                raise SystemExit(1)
            # max_failure_rate=1 tolerates every failure, this one included.
            log.warning("no completed trials in study '%s' (%s)", study_name, shown_storage)
        # Hydra's Sweeper.sweep returns the batches it launched. Jobs here ran with no
        # batches; grouped by n_jobs in job order, the result reads as Hydra's sweepers'
        # (its BatchedSweeperTestSuite checks that shape, order and folders).
        returns.sort(key=lambda ret: ret.hydra_cfg.hydra.job.num if ret.hydra_cfg else 0)
        return [returns[i : i + self.n_jobs] for i in range(0, len(returns), self.n_jobs)]

    def tell_configuration(
        self,
        study: optuna.Study,
        configuration: Configuration,
        plan: RepeatPlan,
        recorder: SweepRecorder,
    ) -> int:
        """Tell the study and results.csv a configuration whose jobs have all ended:
        one outcome (with repeats, their aggregate: _repeats), one row. 1 if failed."""
        group = configuration.returns()
        outcome, columns = configuration_outcome([outcome_of_job(r) for r in group], plan)
        if columns is not None:
            configuration.trial.set_user_attr(REPEATS_ATTR, columns)
        failed = self.tell(study, configuration.trial, outcome)
        first = configuration.numbers[0]
        recorder.record(first, configuration.overrides, outcome, group[0], columns)
        return failed

    @staticmethod
    def ask(study: optuna.Study, count: int, n_trials: int) -> list[optuna.Trial]:
        """Ask `count` trials; those beyond n_trials (another process asked at the same
        time) are recorded as surplus and never run."""
        asked = [study.ask() for _ in range(count)]
        extra = set(surplus(study.get_trials(deepcopy=False), [t.number for t in asked], n_trials))
        for trial in asked:
            if trial.number in extra:
                trial.set_user_attr(SURPLUS_ATTR, True)
                study.tell(trial, state=TrialState.FAIL)
        return [t for t in asked if t.number not in extra]

    @staticmethod
    def requeue_cut_off(study: optuna.Study, sweep_dir: Path) -> None:
        """Trials a killed process of this sweep folder left RUNNING: recorded as failed,
        their parameters queued again so that each configuration still runs once."""
        own = set(registered_jobs(sweep_dir).values())
        cut = cut_off(study.get_trials(deepcopy=False), own)
        for trial in cut:
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={REQUEUED_ATTR: trial.number})
        if cut:
            numbers = [t.number for t in cut]
            log.info("resuming: trials %s were cut off; their parameters run again", numbers)

    def stop_interrupted(
        self, study: optuna.Study, trials: list[optuna.Trial], interrupt: KeyboardInterrupt
    ) -> NoReturn:
        """Record the trials a signal cut off, queue them again, exit 130 or 143.

        The job has recorded its outcome ("interrupted by ..."); the study learns it here."""
        signal_name, exit_code = signal_of(interrupt)
        for trial in trials:
            self.tell(study, trial, TrialOutcome.of_error(interrupt))
            study.enqueue_trial(trial.params, user_attrs={REQUEUED_ATTR: trial.number})
        log.error(
            "interrupted by %s: trial(s) %s recorded as failed and queued again; resume with "
            "the same command and hydra.sweep.dir=%s",
            signal_name,
            ", ".join(str(t.number) for t in trials),
            self.config.hydra.sweep.dir,
        )
        raise SystemExit(exit_code)

    def print_plan(self, space: SearchSpace, grid: bool, n_trials: int) -> None:
        """Dry run: the space, the trial count, and every config that is known up front."""
        lines = [f"search space ({'grid' if grid else 'sampled'}, {n_trials} trials):"]
        lines += [f"  {name}: {describe(dist)}" for name, dist in space.params.items()]
        for condition in space.conditions:
            lines += [
                f"  {name}: {describe(dist)}  (when {condition.key}={condition.value})"
                for name, dist in condition.params.items()
            ]
        lines += [f"  fixed: {' '.join(space.fixed)}"] if space.fixed else []
        # Compose what can be known: every grid combination, or every combination of the
        # discrete choices (intervals at their low end) when sampling.
        if grid:
            known = grid_combinations(space)
        else:
            known = [
                {**c, **{n: d.low for n, d in space.params.items() if not is_finite(d)}}
                for c in combinations({n: d for n, d in space.params.items() if is_finite(d)})
            ]
        for params in known:
            self.hydra_context.config_loader.load_sweep_config(
                self.config, [*space.fixed, *trial_overrides(params)]
            )
        lines.append(f"composed {len(known)} configs: ok (dry run, nothing was trained)")
        print("\n".join(lines))

    @staticmethod
    def tell(study: optuna.Study, trial: optuna.Trial, outcome: TrialOutcome) -> int:
        """Tell the study the job's recorded outcome; 1 if the trial failed, else 0."""
        if outcome.reason:
            log.warning("trial %d %s: %s", trial.number, outcome.status, outcome.reason)
        trial.set_user_attr(STATUS_ATTR, str(outcome.status))
        value, state = tell_arguments(outcome)
        study.tell(trial, value, state=state)
        return int(outcome.status == RunStatus.FAILED)

    def log_progress(self, study: optuna.Study, total: int) -> None:
        trials = study.get_trials(deepcopy=False)
        counts: dict[str, int] = {}
        for trial in counted(trials):
            word = trial.user_attrs.get(STATUS_ATTR) or trial.state.name.lower()
            counts[word] = counts.get(word, 0) + 1
        completed = [t for t in trials if t.state == TrialState.COMPLETE]
        if completed:
            best = f"best {study.best_value:.6g} (trial {study.best_trial.number})"
        else:
            best = "no completed trial yet"
        # A live line in a terminal, a log line otherwise (_progress).
        self.progress.update(done_count(trials), best, counts)
