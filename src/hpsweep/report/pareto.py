"""pareto_front.png: a sweep of several objectives, its front against everything else.

Two objectives: a scatter of objective_1 against objective_2, the front joined as a
staircase in the order of the first objective, finished trials off the front in grey,
pruned ones at the values they last reported (crosses: they never trained to the end,
so they are on no front). More objectives: each finished trial as a line across the
objectives, each scaled to [0, 1] with "better" down, the front in colour.
"""

from __future__ import annotations

import math
from typing import Any

from hpsweep.report.loading import Sweep
from hpsweep.sweep.results import is_objective_column


def _points(sweep: Sweep, names: list[str], flag: str, status: str | None = None) -> list:
    points = []
    for row in sweep.rows:
        values = [float(row[n]) if row.get(n) else math.nan for n in names]
        if not all(math.isfinite(v) for v in values):
            continue
        if (status is None and row.get("pareto") == flag) or row["status"] == status:
            points.append(values)
    return points


def _label(name: str, direction: str) -> str:
    return f"{name} ({'lower' if direction == 'minimize' else 'higher'} is better)"


def _names(sweep: Sweep, columns: list[str]) -> list[str]:
    """What to call each objective: train.py's metric names, else the column's."""
    named = list(sweep.objective_names)
    return named if len(named) == len(columns) else columns


def draw_pareto(sweep: Sweep, figure: Any) -> None:
    names = [c for c in sweep.rows[0] if is_objective_column(c)] if sweep.rows else []
    directions = list(sweep.directions) or ["minimize"] * len(names)
    front = sorted(_points(sweep, names, "true"))
    dominated = _points(sweep, names, "false")
    pruned = _points(sweep, names, "", status="pruned")
    if len(names) == 2:
        axis = figure.add_subplot(1, 1, 1)
        for points, style in (
            (dominated, {"color": "0.6", "marker": "o", "label": "finished, dominated"}),
            (pruned, {"color": "C1", "marker": "x", "label": "pruned (last values)"}),
            (front, {"color": "C0", "marker": "o", "label": f"the front ({len(front)})"}),
        ):
            if points:
                axis.scatter([p[0] for p in points], [p[1] for p in points], s=24, **style)
        if front:
            axis.step([p[0] for p in front], [p[1] for p in front], where="post", color="C0")
        for points_axis, set_scale in ((0, axis.set_xscale), (1, axis.set_yscale)):
            values = [p[points_axis] for p in front + dominated + pruned]
            if values and min(values) > 0 and max(values) >= 10 * min(values):
                set_scale("log")  # a parameter count spans decades
        labels = _names(sweep, names)
        axis.set_xlabel(_label(labels[0], directions[0]))
        axis.set_ylabel(_label(labels[1], directions[1]))
        axis.legend(loc="best", fontsize="small")
        axis.set_title(f"Pareto front of {len(front) + len(dominated)} finished trials")
        return
    axis = figure.add_subplot(1, 1, 1)
    _draw_across(axis, _names(sweep, names), directions, front, dominated)


def _draw_across(axis: Any, names: list[str], directions: list[str], front, dominated) -> None:
    """More than two objectives: one line a trial across them, scaled, better down."""
    every = front + dominated
    lows = [min(p[i] for p in every) for i in range(len(names))]
    highs = [max(p[i] for p in every) for i in range(len(names))]

    def scaled(point: list[float]) -> list[float]:
        out = []
        for value, low, high, direction in zip(point, lows, highs, directions, strict=True):
            share = (value - low) / (high - low) if high > low else 0.5
            out.append(share if direction == "minimize" else 1 - share)
        return out

    xs = list(range(len(names)))
    for point in dominated:
        axis.plot(xs, scaled(point), color="0.7", linewidth=0.8)
    for point in front:
        axis.plot(xs, scaled(point), color="C0", linewidth=1.5)
    axis.set_xticks(xs, [_label(n, d) for n, d in zip(names, directions, strict=True)])
    axis.set_ylabel("scaled: 0 the best seen, 1 the worst")
    axis.set_title(f"the front ({len(front)}, blue) among {len(every)} finished trials")
