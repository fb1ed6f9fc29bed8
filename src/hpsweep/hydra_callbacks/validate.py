"""Bad input stops before Hydra creates a run's output folder or a sweep's folder.

A run's config is checked by hpsweep.training.validation. Hydra builds the sweeper
after this callback's `on_multirun_start`, so the hpsweep sweeper's own settings
(`hydra.sweeper.n_trials=0`, ...) are checked here too (hpsweep.sweep.settings), and a
successive-halving or Hyperband sweep that can prune nothing says so. A sweep's jobs are composed
by Hydra only when it launches them, so `-m optimizer=adam,adamm` or
`-m optimizer.lr=0.1,-1` would create a sweep folder and a study and then fail trial by
trial. So at multirun start this module reads the sweep's spec (hpsweep.sweep.spec:
the command line, `params:` and `conditional:` alike) and composes one config per
searched value (with each combination of the searched config groups, since a leaf
may exist only in some of their options; a conditional parameter under its
condition), and validates each: such input stops with one line and exit code 1
before the sweep folder is created.

Example: `-m optimizer=adam,sgd optimizer.lr=0.01,-1` composes adam/lr=0.01,
adam/lr=-1, sgd/lr=0.01, sgd/lr=-1 and stops at the second: "invalid value
optimizer.lr=-1: must be a number > 0".
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hpsweep.sweep.settings import (
    GRID_SWEEPER_TARGET,
    SettingsError,
    base_seed,
    check_settings,
    directions_of,
    is_hpsweep_sweeper,
    nothing_to_prune,
    pbt_space_problem,
)
from hpsweep.sweep.spec import SweepSpec, SweepSpecError
from hpsweep.training.objective import objective_metrics
from hpsweep.training.validation import ConfigError, validate

log = logging.getLogger(__name__)

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
# Enough to cover any sweep typed on a command line; larger spaces are sampled anyway.
MAX_COMPOSITIONS = 200

Compose = Callable[[list[str]], DictConfig]


def validate_sweeper_settings(config: DictConfig) -> None:
    """Raise ConfigError for an invalid hydra.sweeper.* value of the hpsweep sweeper,
    and for repeats asked of the grid sweeper."""
    sweeper = config.hydra.sweeper
    if sweeper._target_ == GRID_SWEEPER_TARGET and sweeper.repeats != 1:
        raise ConfigError(
            f"hydra.sweeper.repeats={sweeper.repeats}: hydra/sweeper=grid (Hydra's basic "
            "sweeper) runs each combination once; hydra/sweeper=auto runs the same grid "
            "with repeats"
        )
    if not is_hpsweep_sweeper(config):
        return
    try:
        check_settings(sweeper)
        base_seed(config, sweeper.get("repeats", 1), sweeper.get("seed_key", "trainer.seed"))
    except SettingsError as error:
        raise ConfigError(str(error)) from error
    metric = OmegaConf.select(config, "objective.metric", default=None)
    directions = directions_of(sweeper.get("direction", "minimize"))
    if metric is not None and len(objective_metrics(metric)) != len(directions):
        raise ConfigError(
            f"objective.metric lists {len(objective_metrics(metric))} objectives but "
            f"hydra.sweeper.direction {len(directions)}: leave hydra.sweeper.direction out "
            "(it follows objective.metric) or give one direction per objective"
        )


def pruning_warning(config: DictConfig) -> str | None:
    """One line when the sweep's pruner has no rung before the trials' last epoch."""
    pruner = OmegaConf.select(config, "hydra.sweeper.pruner")
    if not isinstance(pruner, DictConfig):
        return None
    max_resource = pruner.get("max_resource")
    epochs = (
        max_resource
        if isinstance(max_resource, int)
        else OmegaConf.select(config, "trainer.epochs", default=None)
    )
    return nothing_to_prune(pruner, epochs)


def pbt_warning(config: DictConfig) -> str | None:
    """One line when PBT runs with early stopping on: a member it stops ends for good."""
    if OmegaConf.select(config, "hydra.sweeper.pbt", default=None) is None:
        return None
    if OmegaConf.select(config, "callbacks.early_stopping", default=None) is None:
        return None
    return (
        "hydra/sweeper=pbt with early stopping on: a member it stops ends there, and an "
        "exploit copies its counter; PBT usually runs without it: '~callbacks.early_stopping'"
    )


def validate_sweep(config: DictConfig, compose: Compose) -> None:
    """Raise ConfigError for the first searched value that cannot run."""
    try:
        spec = SweepSpec.of(config)
    except SweepSpecError as error:
        raise ConfigError(str(error)) from error
    if OmegaConf.select(config, "hydra.sweeper.pbt", default=None) is not None:
        problem = pbt_space_problem(len(spec.parameters), len(spec.conditional))
        if problem is not None:
            raise ConfigError(problem)
    if config.hydra.sweeper._target_ in (BASIC_SWEEPER, GRID_SWEEPER_TARGET):
        for parameter in spec.parameters:
            if parameter.override.is_interval_sweep():
                raise ConfigError(
                    f"{parameter.override.input_line}: hydra/sweeper=grid (Hydra's basic "
                    "sweeper) runs lists only; sample intervals with hydra/sweeper=auto, tpe "
                    "or random"
                )
    for composed, line in enumerate(spec.overrides_to_check()):
        if composed == MAX_COMPOSITIONS:
            return
        try:
            cfg = compose(line)
        except (HydraException, OmegaConfBaseException) as error:
            # One line: Hydra's message without the config search path it appends.
            message = str(error).split("Config search path")[0]
            raise ConfigError(" ".join(message.split())) from error
        validate(cfg)


class ValidateConfigCallback(Callback):
    """Validates before Hydra creates a run's output folder, so bad input leaves none.

    Hydra turns exceptions raised in callbacks into warnings and carries on, so this
    callback prints the message itself and raises SystemExit(1), which Hydra lets through.
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _validate_or_exit(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # The config without the swept overrides catches every value fixed for the sweep;
        # validate_sweep composes and checks the searched values.
        from hydra import compose

        def compose_job(overrides: list[str]) -> DictConfig:
            return compose(config.hydra.job.config_name, overrides=overrides)

        _validate_or_exit(
            config, validate_sweeper_settings, lambda cfg: validate_sweep(cfg, compose_job)
        )
        for warning in (pruning_warning(config), pbt_warning(config)):
            if warning:
                log.warning(warning)


def _validate_or_exit(config: DictConfig, *more_checks: Callable[[DictConfig], None]) -> None:
    try:
        validate(config)
        for check in more_checks:
            check(config)
    except ConfigError as error:
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
