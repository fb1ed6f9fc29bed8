"""The objective: the one number of a run's metrics that the sweepers optimize."""

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
