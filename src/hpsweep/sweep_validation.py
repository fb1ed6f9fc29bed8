"""Checks a sweep's search space before anything of the sweep exists.

Hydra composes a sweep's jobs only when it launches them, so `-m optimizer=adam,adamm`
or `-m optimizer.lr=0.1,-1` would create a sweep folder and a study and then fail
trial by trial. This module composes, at multirun start, one config per swept value
(with each combination of the swept config groups, since a leaf may exist only in
some of their options) and validates each, so such input stops with one line and exit
code 1 before the sweep folder is created.

Example: `-m optimizer=adam,sgd optimizer.lr=0.01,-1` composes adam/lr=0.01,
adam/lr=-1, sgd/lr=0.01, sgd/lr=-1 and stops at the second: "invalid value
optimizer.lr=-1: must be a number > 0".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from hydra.core.override_parser.types import IntervalSweep, Override
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from hpsweep.hparams import parse
from hpsweep.validation import ConfigError, validate

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
# Enough to cover any sweep typed on a command line; larger spaces are sampled anyway.
MAX_COMPOSITIONS = 200

Compose = Callable[[list[str]], DictConfig]


def swept_values(override: Override) -> list[str]:
    """The values to try for one sweep override: each listed one, an interval's ends."""
    sweep = override.value()
    if isinstance(sweep, IntervalSweep):
        if "log" in sweep.tags and sweep.start <= 0:
            raise ConfigError(
                f"{override.input_line}: a log-scale interval needs a lower bound > 0"
            )
        return [str(sweep.start), str(sweep.end)]
    return list(override.sweep_string_iterator())


def trial_overrides(overrides: list[str], groups: set[str]) -> Iterator[list[str]]:
    """Override lists to compose: every combination of the swept groups, each with every
    swept leaf value in turn (the other leaves at their first value)."""
    parsed = [o for o in parse(overrides) if not o.key_or_group.startswith("hydra")]
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    swept = [o for o in parsed if o.is_sweep_override()]
    group_sweeps = [o for o in swept if o.key_or_group in groups]
    leaf_sweeps = [o for o in swept if o.key_or_group not in groups]
    group_values = [[f"{o.key_or_group}={v}" for v in swept_values(o)] for o in group_sweeps]
    leaf_values = [[f"{o.get_key_element()}={v}" for v in swept_values(o)] for o in leaf_sweeps]
    firsts = [values[0] for values in leaf_values]
    for group_combination in itertools.product(*group_values):
        yield [*fixed, *group_combination, *firsts]
        for index, values in enumerate(leaf_values):
            for value in values[1:]:
                yield [*fixed, *group_combination, *firsts[:index], value, *firsts[index + 1 :]]


def validate_sweep(config: DictConfig, compose: Compose) -> None:
    """Raise ConfigError for the first swept value that cannot run."""
    overrides = list(config.hydra.overrides.task)
    if config.hydra.sweeper._target_ == BASIC_SWEEPER:
        for override in parse(overrides):
            if override.is_interval_sweep():
                raise ConfigError(
                    f"{override.input_line}: hydra/sweeper=grid (Hydra's basic sweeper) runs "
                    "lists only; sample intervals with hydra/sweeper=auto, tpe or random"
                )
    groups = {g for g in config.hydra.runtime.choices if not g.startswith("hydra")}
    for composed, line in enumerate(trial_overrides(overrides, groups)):
        if composed == MAX_COMPOSITIONS:
            return
        try:
            cfg = compose(line)
        except (HydraException, OmegaConfBaseException) as error:
            # One line: Hydra's message without the config search path it appends.
            message = str(error).split("Config search path")[0]
            raise ConfigError(" ".join(message.split())) from error
        validate(cfg)
