"""The objective: the number of a run's metrics that the sweepers optimize (or the
numbers: `objective.metric=[val/loss,model/params]`, one per objective).

Each metric has its own direction: a loss is better lower, an accuracy higher. So
`objective.mode` (and each callback's `mode`) defaults to its metric's direction
through the `${hpsweep_mode:<metric>}` resolver, and validation rejects a mode that
contradicts its metric (`objective.metric=val/acc objective.mode=min` would keep the
worst epoch and pick the worst model).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig


class UnknownMetricError(KeyError):
    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def objective_metrics(metric: Any) -> list[str]:
    """objective.metric as a list: several objectives are `objective.metric=[a,b]`."""
    return [metric] if isinstance(metric, str) else [str(m) for m in metric]


def objective_value(objective: DictConfig, metrics: Mapping[str, float]) -> float:
    """metrics[objective.metric] (the first, with several), or an error that lists the
    metrics this run has."""
    return objective_values(objective, metrics)[0]


def objective_values(objective: DictConfig, metrics: Mapping[str, float]) -> list[float]:
    """metrics[m] for each m of objective.metric, or an error that lists the metrics."""
    names = objective_metrics(objective.metric)
    for name in names:
        if name not in metrics:
            raise UnknownMetricError(
                f"objective.metric={name} is not a metric of this run; "
                f"it reported: {', '.join(sorted(metrics))}"
            )
    return [float(metrics[name]) for name in names]


def metric_direction(metric: Any) -> Any:
    """`max` for an accuracy (val/acc, test/acc), `min` for everything else (losses,
    model/params, time/epoch_seconds); a list of them for a list of metrics."""
    if not isinstance(metric, str):
        return [metric_direction(str(m)) for m in metric]
    return "max" if metric.rsplit("/", 1)[-1] == "acc" else "min"


def sweep_direction(mode: Any) -> Any:
    """objective.mode as the sweeper's direction: min -> minimize, max -> maximize, a
    list for a list (the presets' `${objective.mode}imize` cannot spell one)."""
    if not isinstance(mode, str):
        return [sweep_direction(str(m)) for m in mode]
    return "maximize" if mode == "max" else "minimize"


def first_metric(metric: Any) -> str:
    """The first objective: what early stopping and the best checkpoint watch."""
    return objective_metrics(metric)[0]
