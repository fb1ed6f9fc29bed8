"""The hpsweep sweeper as Hydra calls it: its settings, then a sweep in named steps.

Example: `python train.py -m optimizer=adam,sgd 'optimizer.lr=tag(log,interval(1e-4,1e-1))'`
plans {optimizer: Categorical(adam, sgd), optimizer.lr: Float(1e-4, 0.1, log)}: an
interval makes the space infinite, so `search: auto` samples `n_trials` with the
configured sampler; `-m optimizer=adam,sgd model=mlp,cnn` alone is finite and runs
each of the 4 combinations once. The steps live in hpsweep.search, one room each:

    plan    = SweepPlan.of(...)              # space, grid or sampled, trials, repeats
    study   = open_study(...)                # created or resumed
    resumed = cut_off_trials(...)            # cut trials, to continue in their own folders
    loop    = InFlight(...).run()            # n_jobs jobs in flight on Hydra's launcher
    each configuration: SweepRecorder.record # one outcome -> the study and results.csv
    finally: recorder.finish()               # best.yaml, summary, report

Hydra-specific glue stays here: the launcher, the compose-once config loader, the dry
run's compositions and the shape of Hydra's return value.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import optuna
from hydra.core.utils import JobReturn
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from hpsweep.search.bookkeeping import done_count, tell_arguments
from hpsweep.search.configuration import Configuration
from hpsweep.search.dispatch import Dispatcher
from hpsweep.search.in_flight import InFlight, TooManyFailures
from hpsweep.search.pbt import PBTSettings
from hpsweep.search.pbt import boundaries as pbt_boundaries
from hpsweep.search.plan import SweepPlan
from hpsweep.search.population import Segment
from hpsweep.search.population_loop import NoSavedState, PopulationLoop, population_of
from hpsweep.search.population_schedule import (
    check_population_space,
    finish_population,
    segment_columns,
    stop_without_state,
)
from hpsweep.search.progress import SweepProgress
from hpsweep.search.racing import resumed_race
from hpsweep.search.recording import SweepRecorder
from hpsweep.search.repeats import RepeatPlan
from hpsweep.search.space import describe
from hpsweep.search.study import StudySettings, TrialAsker, cut_off_trials, open_study
from hpsweep.sweep.channel import (
    DEFAULT_STUDY_NAME,
    JOURNAL_FILE,
    registered_pid,
    write_channel,
)
from hpsweep.sweep.interruption import signal_of
from hpsweep.sweep.job import RecordedTask
from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hpsweep.sweep.settings import check_settings, directions_of, effective_pruner
from hpsweep.sweep.storage import (
    close_process_storages,
    conceal_storage_password,
    mask_password,
    open_or_exit,
)
from hydra_plugins.hpsweep_sweeper._compose_once import ComposeOnceConfigLoader

log = logging.getLogger(__name__)


class HpsweepSweeperImpl(Sweeper):
    def __init__(self, **settings: Any) -> None:
        # The same check, with the same words, stops bad values at multirun start
        # (hpsweep.hydra_callbacks.validate), before any folder exists.
        check_settings(settings)
        self.settings = settings
        self.report = settings["report"]
        self.n_jobs = settings["n_jobs"]

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        # The storage as the sweep records it, with no password in it (hpsweep.sweep.storage):
        # before the launcher composes any job from `config`.
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

    def sweep(self, arguments: list[str]) -> list[list[JobReturn]]:
        try:
            return self.run_sweep(arguments)
        finally:
            # The study's storage, which jobs run in this process shared with the sweep.
            close_process_storages()

    def run_sweep(self, arguments: list[str]) -> list[list[JobReturn]]:
        plan = self.plan(arguments)
        if self.settings["dry_run"]:
            self.dry_run(plan)
            return []
        sweep_dir = Path(self.config.hydra.sweep.dir)
        if self.settings.get("pbt") is not None:
            return self.run_population(plan, sweep_dir)
        study, storage_spec = self.open(plan, sweep_dir)
        race = (
            resumed_race(plan.repeats, self.settings["direction"], study.get_trials())
            if plan.repeats.adaptive
            else None
        )
        recorder = SweepRecorder(self.config, study, plan.repeats, race)
        progress = SweepProgress(
            plan.n_trials, done_before=self.log_start(study, plan, storage_spec)
        )

        def record(configuration: Any) -> bool:
            outcome = recorder.record_ended(configuration)
            told_value, _ = tell_arguments(outcome)
            progress.trial_ended(study, configuration.trial.number, str(outcome.status), told_value)
            return outcome.status == RunStatus.FAILED

        loop = InFlight(
            plan,
            sweep_dir,
            Dispatcher(
                self.launcher,
                self.n_jobs,
                barrier=self.settings["dispatch"] == "batch",
                pid_of=self.pid_of(sweep_dir),
            ),
            ask=TrialAsker(study, plan.n_trials),
            record=record,
            record_cut=recorder.record_interrupted,
            max_failure_rate=self.settings["max_failure_rate"],
            resumed=cut_off_trials(study, sweep_dir),
            race=race,
        )
        try:
            loop.run()
        except TooManyFailures as too_many:
            self.stop_failing(study, too_many)
        except KeyboardInterrupt as interrupt:
            self.stop_interrupted(loop.cut, interrupt)
        finally:
            progress.close()
            recorder.finish(self.report)  # best.yaml, summary, report: also when stopped early
        self.check_completed(study, storage_spec)
        return hydra_batches(loop.returns, self.n_jobs)

    def run_population(self, plan: SweepPlan, sweep_dir: Path) -> list[list[JobReturn]]:
        """hydra/sweeper=pbt: the population's segments on the same launcher, dispatch
        and record as every sweep (hpsweep.search.population_loop)."""
        pbt = PBTSettings.of(container(self.settings["pbt"]))
        plan = dataclasses.replace(plan, n_trials=pbt.population * len(pbt_ends(pbt)))
        check_population_space(plan)
        study, storage_spec = self.open(plan, sweep_dir)
        population = population_of(pbt, self.settings["direction"], self.settings["seed"], study)
        recorder = SweepRecorder(self.config, study, plan.repeats, pbt=True)
        progress = SweepProgress(
            plan.n_trials, done_before=self.log_start(study, plan, storage_spec)
        )

        def record(
            segment: Segment,
            trial: optuna.Trial,
            outcome: TrialOutcome,
            job_dir: Path | None,
            overrides: list[str],
        ) -> bool:
            columns = segment_columns(segment)
            failed = recorder.record(
                Configuration(trial, overrides, [segment.job]), outcome, job_dir, None, columns
            )
            told_value, _ = tell_arguments(outcome)
            progress.trial_ended(study, trial.number, str(outcome.status), told_value)
            return failed

        loop = PopulationLoop(
            plan,
            population,
            sweep_dir,
            Dispatcher(self.launcher, self.n_jobs, pid_of=self.pid_of(sweep_dir)),
            study,
            record,
            self.settings["max_failure_rate"],
            keep_state=self.settings["keep_state"],
        )
        try:
            loop.run()
        except TooManyFailures as too_many:
            self.stop_failing(study, too_many)
        except NoSavedState as missing:
            stop_without_state(missing.job)
        except KeyboardInterrupt as interrupt:
            self.stop_interrupted(loop.cut, interrupt)
        finally:
            progress.close()
            finish_population(population, sweep_dir, self.config)
            recorder.finish(self.report, best_yaml=False)
        self.check_completed(study, storage_spec)
        return hydra_batches(loop.returns, self.n_jobs)

    def pid_of(self, sweep_dir: Path) -> Any:
        return lambda job: registered_pid(sweep_dir, job.number)

    def plan(self, arguments: list[str]) -> SweepPlan:
        s = self.settings
        repeats = RepeatPlan.of(
            self.config,
            s["repeats"],
            s["seed_key"],
            s["min_repeats"],
            max_repeats=s["max_repeats"],
            significance=s["significance"],
        )
        return SweepPlan.of(
            self.config,
            arguments,
            search=s["search"],
            n_trials=s["n_trials"],
            params=container(s["params"]),
            conditional=container(s["conditional"]),
            repeats=repeats,
        )

    def open(self, plan: SweepPlan, sweep_dir: Path) -> tuple[optuna.Study, str]:
        """The study (created or resumed) and its storage as recorded: no password in it
        (hpsweep.sweep.storage). A storage that cannot be opened stops the sweep with
        one line before any folder exists."""
        s = self.settings
        storage_spec = self.storage or str((sweep_dir / JOURNAL_FILE).resolve())
        storage = open_or_exit(storage_spec)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        pruner = effective_pruner(container(s["pruner"]), s["direction"])
        settings = StudySettings(
            study_name=s["study_name"] or DEFAULT_STUDY_NAME,
            direction=s["direction"],
            sampler=container(s["sampler"]),
            pruner=pruner,
            seed=s["seed"],
            n_jobs=self.n_jobs,
        )
        study = open_study(settings, plan, sweep_dir, storage)
        # Where the study lives, for the jobs (and for optuna-dashboard, `hpsweep report`).
        write_channel(
            sweep_dir,
            storage_spec,
            study.study_name,
            pruner,
            plan.repeats.most_seeds,
            # PBT continues members from the states their segments leave.
            keep_state=s["keep_state"] or s.get("pbt") is not None,
            objectives=len(directions_of(s["direction"])),
        )
        return study, storage_spec

    def log_start(self, study: optuna.Study, plan: SweepPlan, storage_spec: str) -> int:
        """One line on what the sweep runs and where its study lives; the trials done
        before (a resumed sweep)."""
        done = done_count(study.get_trials(deepcopy=False))
        intervals = {
            name: d
            for name, d in plan.space.distributions().items()
            if not isinstance(d, CategoricalDistribution)
        }
        log.info(
            "hpsweep: %s, %d trials%s, %s, pruner %s; study '%s' in %s%s",
            "grid" if plan.grid else type(study.sampler).__name__,
            plan.n_trials,
            f" ({done} done before)" if done else "",
            self.settings["direction"],
            type(study.pruner).__name__,
            study.study_name,
            mask_password(storage_spec),  # logs never show a password
            # The scale of each interval, said where the user looks first (spec.log_scale).
            "".join(f"; {name}: {describe(d)}" for name, d in intervals.items()),
        )
        return done

    def dry_run(self, plan: SweepPlan) -> None:
        """The space, the trial count, and the configs composed up front (the same ones
        the bad-input check composes: SweepSpec.overrides_to_check)."""
        lines = plan.lines()
        known = list(plan.spec.overrides_to_check())
        for overrides in known:
            self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        lines.append(f"composed {len(known)} configs: ok (dry run, nothing was trained)")
        print("\n".join(lines))

    def stop_failing(self, study: optuna.Study, too_many: TooManyFailures) -> None:
        completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        log.error(
            "stopping the sweep: %s%d of %d trials failed, more than "
            "hydra.sweeper.max_failure_rate=%s (see results.csv for the reasons)",
            "" if completed else "no completed trials; ",
            too_many.failures,
            too_many.recorded,
            self.settings["max_failure_rate"],
        )
        raise SystemExit(1)

    def stop_interrupted(self, cut: list[int], interrupt: KeyboardInterrupt) -> None:
        """Exit 130 (SIGINT) or 143 (SIGTERM), saying how to resume."""
        signal_name, exit_code = signal_of(interrupt)
        log.error(
            "interrupted by %s: trial(s) %s cut off, their state saved; to continue them "
            "where they stopped, run the same command with hydra.sweep.dir=%s",
            signal_name,
            ", ".join(str(number) for number in cut) or "none",
            self.config.hydra.sweep.dir,
        )
        raise SystemExit(exit_code)

    def check_completed(self, study: optuna.Study, storage_spec: str) -> None:
        if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            return
        where = f"study '{study.study_name}' ({mask_password(storage_spec)})"
        if self.settings["max_failure_rate"] < 1:
            log.error("no completed trials in %s", where)
            raise SystemExit(1)
        # max_failure_rate=1 tolerates every failure, this one included.
        log.warning("no completed trials in %s", where)


def pbt_ends(pbt: PBTSettings) -> list[int]:
    assert pbt.epochs is not None, "check_settings requires hydra.sweeper.pbt.epochs"
    return pbt_boundaries(pbt.epochs, pbt.interval)


def container(node: Any) -> Any:
    """A plain dict (or None) of a config node, resolved."""
    return OmegaConf.to_container(node, resolve=True) if node is not None else {}


def hydra_batches(returns: dict[int, JobReturn], n_jobs: int) -> list[list[JobReturn]]:
    """Hydra's Sweeper.sweep returns the batches it launched. Jobs here ran with no
    batches; grouped by n_jobs in job order (`returns` is keyed by job number), the
    result reads as Hydra's sweepers' (its BatchedSweeperTestSuite checks that shape,
    order and folders)."""
    ordered = [returns[number] for number in sorted(returns)]
    return [ordered[i : i + n_jobs] for i in range(0, len(ordered), n_jobs)]
