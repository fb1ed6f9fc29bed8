"""The objective: the one number of a run's metrics that the sweepers optimize.

Each metric has its own direction: a loss is better lower, an accuracy higher. So
`objective.mode` (and each callback's `mode`) defaults to its metric's direction
through the `${hpsweep_mode:<metric>}` resolver, and validation rejects a mode that
contradicts its metric (`objective.metric=val/acc objective.mode=min` would keep the
worst epoch and pick the worst model).
"""

from __future__ import annotations

from collections.abc import Mapping

from omegaconf import DictConfig


class UnknownMetricError(KeyError):
    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def objective_value(objective: DictConfig, metrics: Mapping[str, float]) -> float:
    """metrics[objective.metric], or an error that lists the metrics this run has."""
    if objective.metric not in metrics:
        raise UnknownMetricError(
            f"objective.metric={objective.metric} is not a metric of this run; "
            f"it reported: {', '.join(sorted(metrics))}"
        )
    return float(metrics[objective.metric])


def metric_direction(metric: str) -> str:
    """`max` for an accuracy (val/acc, test/acc), `min` for everything else (losses)."""
    return "max" if metric.rsplit("/", 1)[-1] == "acc" else "min"
