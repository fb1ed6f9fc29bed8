"""Reading a sweep folder into one `Sweep` record.

    sweep = load_sweep(Path("multirun/2026-11-29/06-33-10-ab12cd"))
    sweep.ranked()        # finished trials, best first: results.ranked_rows, the one ranking
    sweep.pruned()        # pruned trials, shown apart (their value is their last report)
    sweep.log_scaled      # {"optimizer.lr"}: searched log-uniformly

The searched parameters' scales come from the sweep's spec (hpsweep.sweep.spec, read
from multirun.yaml): an interval is drawn on a log axis when the sweeper searched it
log-uniformly — by hpsweep's rule (`Parameter.log_scale`: tagged `log`, or positive
and spanning two decades unless tagged `linear`), or, for the stock `optuna` sweeper,
by Hydra's (tagged `log`). A list, or a results.csv without a readable spec, falls
back to its values: positive numbers that span two decades or more are drawn on a
log axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from hpsweep.sweep.outcome import RunStatus
from hpsweep.sweep.results import (
    FINISHED_WORDS,
    PARETO_COLUMN,
    PBT_COLUMNS,
    RESULTS_FILE,
    parameter_columns,
    ranked_rows,
    read_results,
    sweep_mode,
)
from hpsweep.sweep.settings import directions_of
from hpsweep.sweep.spec import LOG_SPAN, SweepSpec, SweepSpecError
from hpsweep.training.objective import first_metric, objective_metrics
from hpsweep.training.resolvers import register_resolvers

# The stock hydra-optuna-sweeper: an interval is log-scaled only when tagged `log`.
STOCK_OPTUNA_SWEEPER = "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"


class NotASweepError(ValueError):
    """The folder holds no results.csv: not a sweep folder (or not one yet)."""


@dataclass(frozen=True)
class Trial:
    number: int
    status: str
    value: float  # NaN when the trial has none (failed, diverged)
    epochs: int
    seconds: float
    job_dir: Path | None
    params: dict[str, str]
    reason: str = ""
    started_at: datetime | None = None  # when the job began and ended (UTC); None in
    ended_at: datetime | None = None  # a results.csv written before they were recorded
    # With repeats (hydra.sweeper.repeats > 1): value is the mean over the seeds that
    # finished, value_sd their sample sd (NaN: no repeats, or fewer than 2), repeats
    # how many finished.
    value_sd: float = math.nan
    repeats: int | None = None
    jobs: int = 1  # jobs the row stands for: its repeats (each ran about `epochs` epochs)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_WORDS and math.isfinite(self.value)

    @property
    def has_value(self) -> bool:
        """A value to plot: finished trials, and pruned ones at their last report."""
        return self.status == RunStatus.PRUNED.value or self.finished


@dataclass(frozen=True)
class Sweep:
    path: Path
    trials: list[Trial]  # in results.csv's order (the order in which they ended)
    params: list[str]  # the searched parameters, in results.csv's order
    mode: str  # min | max
    metric: str
    max_epochs: int | None  # trainer.epochs, when the sweep did not vary it
    log_scaled: frozenset[str] = frozenset()
    job_name: str = "train"  # the app's name: train.py
    rows: tuple[dict[str, str], ...] = ()  # results.csv as read, for results.ranked_rows
    # Several objectives: hydra.sweeper.direction, one per objective_<i> column.
    directions: tuple[str, ...] = ()
    objective_names: tuple[str, ...] = ()  # train.py's objective.metric=[...]; else none

    def ranked(self) -> list[Trial]:
        """Finished trials, best first: the ranking of results.ranked_rows, which the
        end-of-sweep summary and best.yaml use too. A PBT sweep ranks its members at
        their last epoch: a segment that ended earlier is a step on the way."""
        by_number = {t.number: t for t in self.trials}
        rows = list(self.rows)
        if self.pbt:
            last = max(int(row["to_epoch"]) for row in rows)
            rows = [row for row in rows if int(row["to_epoch"]) == last]
        return [by_number[int(row["number"])] for row in ranked_rows(rows, self.mode)]

    @property
    def pbt(self) -> bool:
        """Whether results.csv is a PBT sweep's: one row per segment of a member."""
        return bool(self.rows) and PBT_COLUMNS[0] in self.rows[0]

    @property
    def several_objectives(self) -> bool:
        """Whether results.csv has a `pareto` column (best.yaml then lists the front)."""
        return bool(self.rows) and PARETO_COLUMN in self.rows[0]

    def pruned(self) -> list[Trial]:
        """Pruned trials, by trial number: never ranked (they stopped before the end)."""
        pruned = [t for t in self.trials if t.status == RunStatus.PRUNED.value]
        return sorted(pruned, key=lambda t: t.number)

    def numeric(self, name: str) -> bool:
        """Whether every value the trials took for `name` is a number."""
        values = [t.params[name] for t in self.trials if name in t.params]
        return bool(values) and all(_is_number(v) for v in values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(text: str, kind: type = float) -> float:
    try:
        return kind(float(text))
    except (TypeError, ValueError):
        return math.nan if kind is float else 0


def spans_decades(values: list[float]) -> bool:
    """Positive values whose largest is at least LOG_SPAN times the smallest."""
    return bool(values) and min(values) > 0 and max(values) / min(values) >= LOG_SPAN


def log_scaled(config: DictConfig, params: list[str], trials: list[Trial]) -> frozenset[str]:
    """The searched parameters to draw on a log axis (see the module's docstring)."""
    try:
        spec = SweepSpec.of(config) if "hydra" in config else None
    except (SweepSpecError, AttributeError, KeyError):
        spec = None  # a results.csv from elsewhere: judge by the values alone
    stock = OmegaConf.select(config, "hydra.sweeper._target_") == STOCK_OPTUNA_SWEEPER
    intervals = {}
    if spec is not None:
        for parameter in spec.parameters:
            if parameter.override.is_interval_sweep():
                tagged_log = "log" in parameter.override.value().tags
                intervals[parameter.key] = tagged_log if stock else parameter.log_scale
    scaled = set()
    for name in params:
        if name in intervals:
            if intervals[name]:
                scaled.add(name)
            continue
        values = [_number(t.params[name]) for t in trials if name in t.params]
        if all(math.isfinite(v) for v in values) and spans_decades(values):
            scaled.add(name)
    return frozenset(scaled)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def load_sweep(path: Path) -> Sweep:
    results = path / RESULTS_FILE
    if not results.is_file():
        raise NotASweepError(f"{path} is not a sweep folder: it has no {RESULTS_FILE}")
    header, rows = read_results(results)
    params = parameter_columns(header)
    trials = [
        Trial(
            number=int(row["number"]),
            status=row["status"],
            value=_number(row["value"]),
            epochs=int(_number(row["epochs"], int)),
            seconds=_number(row["seconds"]),
            job_dir=Path(row["job_dir"]) if row["job_dir"] else None,
            params={p: row[p] for p in params if row.get(p)},
            reason=row.get("reason") or "",
            started_at=_moment(row.get("started")),
            ended_at=_moment(row.get("finished")),
            value_sd=_number(row.get("value_sd") or ""),
            repeats=int(row["repeats"]) if row.get("repeats") else None,
            jobs=len(row["values"].split(";")) if row.get("values") else 1,
        )
        for row in rows
    ]
    config_file = path / "multirun.yaml"
    config = OmegaConf.load(config_file) if config_file.is_file() else OmegaConf.create()
    register_resolvers()  # objective.mode is `${hpsweep_mode:...}` in the saved config
    assert isinstance(config, DictConfig)
    epochs = OmegaConf.select(config, "trainer.epochs", default=None)
    metric = OmegaConf.select(config, "objective.metric", default="value")
    return Sweep(
        path=path,
        trials=trials,
        params=params,
        mode=sweep_mode(config),
        metric=first_metric(metric),  # with several: the first, what `value` holds
        objective_names=tuple(objective_metrics(metric)) if not isinstance(metric, str) else (),
        max_epochs=epochs if isinstance(epochs, int) and "trainer.epochs" not in params else None,
        log_scaled=log_scaled(config, params, trials),
        job_name=OmegaConf.select(config, "hydra.job.name", default="train"),
        rows=tuple(rows),
        directions=tuple(sweep_directions(config)),
    )


def sweep_directions(config: DictConfig) -> list[str]:
    """hydra.sweeper.direction as a list, when the sweep had several objectives."""
    direction = OmegaConf.select(
        config, "hydra.sweeper.direction", default=None, throw_on_resolution_failure=False
    )
    return [] if direction is None or isinstance(direction, str) else directions_of(direction)
