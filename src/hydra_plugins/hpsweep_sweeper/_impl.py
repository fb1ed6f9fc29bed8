"""The hpsweep sweep loop: Optuna's ask/tell around Hydra's launcher.

Example: `python train.py -m optimizer=adam,sgd 'optimizer.lr=tag(log,interval(1e-4,1e-1))'`
parses to {optimizer: Categorical(adam, sgd), optimizer.lr: Float(1e-4, 0.1, log)}.
An interval makes the space infinite, so `search: auto` samples `n_trials` with the
configured sampler; `-m optimizer=adam,sgd model=mlp,cnn` alone is finite and runs
each of the 4 combinations once. Each asked trial becomes one job's overrides plus
`hydra.job.env_set.HPSWEEP_TRIAL=<number>`, through which the job reports every
epoch to the study (hpsweep.sweep_trial) and the pruner can stop it.
"""

from __future__ import annotations

import itertools
import logging
import math
from pathlib import Path
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    RangeSweep,
    Transformer,
)
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

from hpsweep.sweep_trial import JOURNAL_FILE, PRUNED_ATTR, TRIAL_ENV, make_storage, write_channel

log = logging.getLogger(__name__)

SEARCH_MODES = ("auto", "grid", "sample")


def distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of one sweep override of Hydra's grammar."""
    sweep = override.value()
    if isinstance(sweep, IntervalSweep):
        log_scale = "log" in sweep.tags
        if isinstance(sweep.start, int) and isinstance(sweep.end, int):
            return IntDistribution(sweep.start, sweep.end, log=log_scale)
        return FloatDistribution(float(sweep.start), float(sweep.end), log=log_scale)
    if isinstance(sweep, RangeSweep) and not sweep.shuffle:
        values = list(override.sweep_iterator(transformer=Transformer.encode))
        if not values:
            raise ValueError(f"{override.input_line}: the range is empty")
        step = sweep.step
        if all(isinstance(v, int) for v in values) and isinstance(step, int) and step > 0:
            # Hydra's range excludes its stop, Optuna's includes its high: the last value.
            return IntDistribution(values[0], values[-1], step=step)
        return CategoricalDistribution(values)
    if isinstance(sweep, ChoiceSweep | RangeSweep):
        return CategoricalDistribution(
            list(override.sweep_iterator(transformer=Transformer.encode))
        )
    raise ValueError(f"{override.input_line}: hpsweep cannot search this kind of sweep")


def search_space(arguments: list[str]) -> tuple[dict[str, BaseDistribution], list[str]]:
    """(distributions of the swept keys, the other overrides as given)."""
    space: dict[str, BaseDistribution] = {}
    fixed: list[str] = []
    for override in OverridesParser.create().parse_overrides(arguments):
        if override.is_sweep_override():
            space[override.get_key_element()] = distribution(override)
        else:
            assert override.input_line is not None
            fixed.append(override.input_line)
    return space, fixed


def is_finite(dist: BaseDistribution) -> bool:
    if isinstance(dist, CategoricalDistribution):
        return True
    if isinstance(dist, IntDistribution):
        return not dist.log
    return isinstance(dist, FloatDistribution) and dist.step is not None


def grid_values(dist: BaseDistribution) -> list[Any]:
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, IntDistribution) and not dist.log:
        return list(range(dist.low, dist.high + 1, dist.step))
    if isinstance(dist, FloatDistribution) and dist.step is not None:
        count = round((dist.high - dist.low) / dist.step) + 1
        return [dist.low + i * dist.step for i in range(count)]
    raise ValueError(f"{dist} is not a finite list of values")


def grid_size(space: dict[str, BaseDistribution]) -> int:
    return math.prod(len(grid_values(d)) for d in space.values())


def grid_combinations(space: dict[str, BaseDistribution]) -> list[dict[str, Any]]:
    """Every combination of the values, the last parameter varying fastest."""
    names = list(space)
    values = [grid_values(space[name]) for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def trial_overrides(params: dict[str, Any]) -> list[str]:
    return [f"{key}={value}" for key, value in params.items()]


def trial_value(ret: JobReturn) -> float:
    """The job's objective as a float; a clear message when the task returned none."""
    value = ret.return_value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"the task function returned {value!r}; a sweep needs it to return the "
            "objective as a number"
        )
    return float(value)


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
    ) -> None:
        if search not in SEARCH_MODES:
            raise ValueError(f"hydra.sweeper.search={search}: choose one of {SEARCH_MODES}")
        if direction not in ("minimize", "maximize"):
            raise ValueError(f"hydra.sweeper.direction={direction}: minimize or maximize")
        if n_trials < 1 or n_jobs < 1:
            raise ValueError("hydra.sweeper.n_trials and hydra.sweeper.n_jobs must be >= 1")
        if not 0 <= max_failure_rate <= 1:
            raise ValueError("hydra.sweeper.max_failure_rate must be in [0, 1]")
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

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def make_sampler(self) -> Any:
        sampler_config = OmegaConf.to_container(self.sampler_config, resolve=True)
        if sampler_config.get("seed", 0) is None:
            sampler_config["seed"] = self.seed
        sampler = instantiate(
            sampler_config,
            _execution_whitelist_=("optuna.samplers.*", "hydra_plugins.hydra_optuna_sweeper.*"),
        )
        if callable(sampler) and not isinstance(sampler, optuna.samplers.BaseSampler):
            raise ValueError(
                "hydra/sweeper/sampler=grid needs the space up front; use hydra.sweeper.search=grid"
            )
        return sampler

    def sweep(self, arguments: list[str]) -> None:
        params_block = [f"{key}={value}" for key, value in self.params.items()]
        space, fixed = search_space([*params_block, *arguments])
        finite = all(is_finite(d) for d in space.values())
        if self.search == "grid" and not finite:
            infinite = [k for k, d in space.items() if not is_finite(d)]
            raise ValueError(
                f"hydra.sweeper.search=grid needs finite lists; not finite: {', '.join(infinite)}"
            )
        grid = bool(space) and finite and self.search != "sample"
        n_trials = grid_size(space) if grid else self.n_trials
        if not space:
            n_trials = 1

        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        storage_spec = self.storage or str((sweep_dir / JOURNAL_FILE).resolve())
        study_name = self.study_name or sweep_dir.name
        pruner = instantiate(self.pruner_config, _execution_whitelist_=("optuna.pruners.*",))
        study = optuna.create_study(
            study_name=study_name,
            storage=make_storage(storage_spec),
            # A grid's trials are all enqueued below; the sampler then proposes nothing.
            sampler=self.make_sampler(),
            pruner=pruner,
            direction=self.direction,
            load_if_exists=True,
        )
        if grid and not study.trials:
            # Every combination once, in the order Hydra's basic sweeper runs them.
            # Enqueued trials live in the storage, so a resumed sweep finds the rest.
            for combination in grid_combinations(space):
                study.enqueue_trial(combination)
        write_channel(sweep_dir, storage_spec, study_name, self.pruner_config)
        log.info(
            "hpsweep: %s, %d trials, %s, pruner %s; study '%s' in %s",
            "grid" if grid else type(study.sampler).__name__,
            n_trials,
            self.direction,
            type(pruner).__name__,
            study_name,
            storage_spec,
        )
        for name, dist in space.items():
            log.info("  %s: %s", name, dist)

        # Trials that ran before (a resumed study) count towards n_trials; queued ones don't.
        done = sum(t.state != TrialState.WAITING for t in study.trials)
        failures = 0
        while done < n_trials:
            batch = min(self.n_jobs, n_trials - done)
            trials = [study.ask(space) for _ in range(batch)]
            overrides = [
                [*fixed, *trial_overrides(t.params), f"++hydra.job.env_set.{TRIAL_ENV}={t.number}"]
                for t in trials
            ]
            returns = self.launcher.launch(overrides, initial_job_idx=trials[0].number)
            for trial, ret in zip(trials, returns, strict=True):
                failures += self.tell(study, trial, ret)
            done += batch
            self.log_progress(study, done, n_trials)
            if failures / done > self.max_failure_rate:
                raise RuntimeError(
                    f"{failures} of {done} trials failed, more than "
                    f"hydra.sweeper.max_failure_rate={self.max_failure_rate}"
                )

    def tell(self, study: optuna.Study, trial: optuna.Trial, ret: JobReturn) -> int:
        """Record one job's outcome in the study; 1 if the trial failed, else 0."""
        if ret.status == JobStatus.FAILED:
            log.warning("trial %d failed: %s", trial.number, ret._return_value)
            study.tell(trial, state=TrialState.FAIL)
            return 1
        try:
            value = trial_value(ret)
        except TypeError as error:
            log.warning("trial %d failed: %s", trial.number, error)
            study.tell(trial, state=TrialState.FAIL)
            return 1
        if PRUNED_ATTR in study.trials[trial.number].user_attrs:
            study.tell(trial, state=TrialState.PRUNED)
        elif not math.isfinite(value):
            # Never a value: a diverged run must not become the best.
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, value)
        return 0

    @staticmethod
    def log_progress(study: optuna.Study, done: int, total: int) -> None:
        completed = [t for t in study.trials if t.state == TrialState.COMPLETE]
        counts = {
            state.name.lower(): n
            for state in TrialState
            if (n := sum(t.state == state for t in study.trials))
        }
        best = (
            f"best {study.best_value:.6g} (trial {study.best_trial.number})"
            if completed
            else "no completed trial yet"
        )
        log.info(
            "[%d/%d] %s; %s", done, total, best, ", ".join(f"{n} {s}" for s, n in counts.items())
        )
