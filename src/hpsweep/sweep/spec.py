"""What a sweep searches, parsed once: the one object every reader of the sweep reads.

A sweep's space comes from three places: the command line's sweep overrides, a
sweeper's `params:` block and its `conditional:` block. `SweepSpec.parse` reads all
three with Hydra's own override parser and checks them; the hpsweep sweeper's plan
and dry run, the bad-input checks, results.csv's columns and TensorBoard's HParams
domains all read the result.

    -m optimizer=choice(adam,sgd) 'optimizer.lr=tag(log,interval(1e-5,1e-1))' trainer.epochs=9
    conditional: {optimizer=sgd: {optimizer.momentum: interval(0.5,0.99)}}

parses to the parameters optimizer (a config group), optimizer.lr, and
optimizer.momentum (only where optimizer=sgd), and the fixed override trainer.epochs=9.
Command-line overrides win over a `params:` entry of the same key, as in Hydra's
Optuna sweeper.

An interval has one owner, `Interval` (`Parameter.interval`): its bounds, checked once
here (in order; a log scale needs a lower bound > 0), whether it is of integers, and
its scale, `log_scale`: a positive `interval(a, b)`
spanning two decades or more (b/a >= 100) is searched log-uniformly, so that
`optimizer.lr=interval(1e-4,1e-1)` draws as many rates in [1e-4, 1e-3) as in
[1e-2, 1e-1) — a linear draw would put 90% of them above 1e-2. `tag(log, ...)` is
always log, `tag(linear, ...)` always linear. The hpsweep sweeper's distributions and
TensorBoard's HParams domains, the bad-input checks and the report's log axes all read
it; the stock `optuna` sweeper keeps Hydra's meaning
(log only when tagged).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, Override
from omegaconf import DictConfig, OmegaConf

# b/a at which a positive interval is searched log-uniformly unless tagged `linear`.
LOG_SPAN = 100


def log_scale(sweep: IntervalSweep) -> bool:
    """Whether hpsweep searches this interval log-uniformly (see the module's docstring).

    interval(1e-4,1e-1) -> True (3 decades); interval(0.1,5) -> False (< 2 decades);
    interval(0,1) -> False (not positive); tag(linear,interval(1e-4,1e-1)) -> False;
    tag(log,interval(0.1,0.5)) -> True; int(interval(1,1000)) -> True.
    """
    if "log" in sweep.tags:
        return True
    if "linear" in sweep.tags:
        return False
    start, end = float(sweep.start), float(sweep.end)
    return start > 0 and end / start >= LOG_SPAN


class SweepSpecError(ValueError):
    """A sweep that cannot be searched as written: the message is one line for the user."""


@dataclass(frozen=True)
class Interval:
    """A searched range of numbers: `interval(a,b)`, `int(interval(a,b))`, tagged or not."""

    low: float
    high: float
    is_int: bool
    log: bool  # searched log-uniformly (`log_scale`)

    @classmethod
    def of(cls, override: Override) -> Interval:
        sweep = override.value()
        assert isinstance(sweep, IntervalSweep)
        if sweep.start > sweep.end:
            raise SweepSpecError(
                f"{override.input_line}: the bounds are in the wrong order; "
                f"write interval({sweep.end}, {sweep.start})"
            )
        if "log" in sweep.tags and sweep.start <= 0:
            raise SweepSpecError(
                f"{override.input_line}: a log-scale interval needs a lower bound > 0"
            )
        is_int = isinstance(sweep.start, int) and isinstance(sweep.end, int)
        return cls(sweep.start, sweep.end, is_int, log_scale(sweep))


@dataclass(frozen=True)
class Condition:
    """Where a conditional parameter is searched: trials whose `key` took `value`."""

    key: str
    value: str

    def __str__(self) -> str:
        return f"{self.key}={self.value}"

    def holds(self, params: Mapping[str, Any]) -> bool:
        """Whether a trial with these parameter values searches the condition's ones."""
        return self.key in params and str(params[self.key]) == self.value


@dataclass(frozen=True)
class Parameter:
    """One searched key, as Hydra parsed it."""

    key: str  # optimizer.lr, or a config group such as optimizer
    override: Override
    is_group: bool
    condition: Condition | None = None

    @property
    def interval(self) -> Interval | None:
        """The range searched; None for a list-like sweep (choice, comma list, range)."""
        return Interval.of(self.override) if self.override.is_interval_sweep() else None

    @property
    def log_scale(self) -> bool:
        """Searched log-uniformly by hpsweep's rule (`log_scale`); False unless an interval."""
        return self.interval is not None and self.interval.log

    def values(self) -> list[Any]:
        """The values of a list-like sweep (choice, comma list, range), as Hydra gives
        them; an interval has none."""
        if self.override.is_interval_sweep():
            return []
        return list(self.override.sweep_iterator())

    def values_to_check(self) -> list[str]:
        """The values a config is composed with before the sweep starts: each listed
        one, an interval's two ends."""
        if self.interval is not None:
            sweep = self.override.value()
            return [str(sweep.start), str(sweep.end)]
        return list(self.override.sweep_string_iterator())


@dataclass(frozen=True)
class SweepSpec:
    parameters: tuple[Parameter, ...]
    fixed: tuple[str, ...]  # overrides every trial gets as given

    @property
    def keys(self) -> list[str]:
        """The searched keys in order, each once: results.csv's parameter columns."""
        return list(dict.fromkeys(p.key for p in self.parameters))

    @property
    def unconditional(self) -> list[Parameter]:
        return [p for p in self.parameters if p.condition is None]

    @property
    def conditional(self) -> list[Parameter]:
        return [p for p in self.parameters if p.condition is not None]

    def overrides_to_check(self) -> Iterator[list[str]]:
        """The override lists composed before a sweep starts (the bad-input check at
        multirun start, the sweeper's dry run): every combination of the searched
        groups, each with every searched leaf value in turn (the other leaves at their
        first value); each conditional parameter's values under its condition. A
        leaf may exist only in some options of a group, hence the combinations."""
        groups = [p for p in self.unconditional if p.is_group]
        leaves = [p for p in self.unconditional if not p.is_group]
        group_values = [[f"{p.key}={v}" for v in p.values_to_check()] for p in groups]
        leaf_values = [[f"{p.key}={v}" for v in p.values_to_check()] for p in leaves]
        firsts = [values[0] for values in leaf_values]
        fixed = list(self.fixed)
        for combination in itertools.product(*group_values):
            yield [*fixed, *combination, *firsts]
            for index, values in enumerate(leaf_values):
                for value in values[1:]:
                    yield [*fixed, *combination, *firsts[:index], value, *firsts[index + 1 :]]
        for parameter in self.conditional:
            assert parameter.condition is not None
            where = str(parameter.condition)
            others = [line for line in firsts if line.split("=", 1)[0] != parameter.condition.key]
            for value in parameter.values_to_check():
                yield [*fixed, where, *others, f"{parameter.key}={value}"]

    @classmethod
    def of(cls, config: DictConfig) -> SweepSpec:
        """The spec of a multirun's config: its task overrides, the sweeper's blocks."""
        return cls.parse(
            config.hydra.overrides.task,
            params=OmegaConf.select(config, "hydra.sweeper.params"),
            conditional=OmegaConf.select(config, "hydra.sweeper.conditional"),
            groups=[g for g in config.hydra.runtime.choices if not g.startswith("hydra")],
        )

    @classmethod
    def parse(
        cls,
        overrides: Iterable[str],
        params: Mapping[str, Any] | None = None,
        conditional: Mapping[str, Mapping[str, Any]] | None = None,
        groups: Iterable[str] = (),
    ) -> SweepSpec:
        def as_lines(block: Mapping[str, Any] | None) -> tuple[str, ...]:
            return tuple(f"{key}={value}" for key, value in (block or {}).items())

        conditional = {str(k): as_lines(v) for k, v in (conditional or {}).items()}
        return _parse(tuple(overrides), as_lines(params), conditional, frozenset(groups))


def _parse(
    overrides: tuple[str, ...],
    params: tuple[str, ...],
    conditional: dict[str, tuple[str, ...]],
    groups: frozenset[str],
) -> SweepSpec:
    command_line = [o for o in _parsed(overrides) if not o.key_or_group.startswith("hydra")]
    given = {o.key_or_group for o in command_line}
    # A params: entry the command line also sets gives way to the command line.
    block = [o for o in _parsed(params) if o.key_or_group not in given]
    parameters: list[Parameter] = []
    fixed: list[str] = []
    for override in [*block, *command_line]:
        if override.is_sweep_override():
            key = override.get_key_element()
            parameters.append(Parameter(key, override, override.key_or_group in groups))
        else:
            assert override.input_line is not None
            fixed.append(override.input_line)

    by_key = {p.key: p for p in parameters}
    for when, lines in conditional.items():
        key, sep, value = when.partition("=")
        choice = by_key.get(key)
        if not sep or choice is None or choice.override.is_interval_sweep():
            searched = ", ".join(by_key) or "none"
            raise SweepSpecError(
                f"hydra.sweeper.conditional: '{when}' must be <parameter>=<value> of a "
                f"searched choice; searched: {searched}"
            )
        if value not in [str(v) for v in choice.values()]:
            raise SweepSpecError(f"hydra.sweeper.conditional: {value} is not a choice of {key}")
        for override in _parsed(lines):
            if not override.is_sweep_override():
                raise SweepSpecError(
                    f"hydra.sweeper.conditional: {override.input_line} is not a sweep"
                )
            condition = Condition(key, value)
            key_element = override.get_key_element()
            parameters.append(Parameter(key_element, override, False, condition))
    for parameter in parameters:
        _ = parameter.interval  # its bounds are checked here, once, for every reader
    return SweepSpec(tuple(parameters), tuple(fixed))


@cache
def _parsed(lines: tuple[str, ...]) -> tuple[Override, ...]:
    # Cached: the sweeper and each Hydra callback parse the same lines at multirun start.
    try:
        return tuple(OverridesParser.create().parse_overrides(overrides=list(lines)))
    except Exception as error:  # Hydra's OverrideParseException: one line for the user
        raise SweepSpecError(" ".join(str(error).split())) from error


def is_dry_run(config: DictConfig) -> bool:
    return bool(OmegaConf.select(config, "hydra.sweeper.dry_run", default=False))
