"""Parallel coordinates of a sweep: one line per trial across its searched parameters
and its value, coloured by the value.

Drawn here rather than with Optuna's plot_parallel_coordinate, which draws finished
trials only, grey-on-grey (ggplot) with the poor trials near white: here every trial
with a value is a line (pruned ones dashed, at their last value), on white, with
viridis from dark (best) to yellow (poorest), and a log-scaled parameter is spaced on
a log axis. Each axis is normalised to [0, 1]:

    axis_of(["1e-4", "1e-3", "1e-2"], log=True).position("1e-3")  ->  0.5
    axis_of(["adam", "sgd"], log=False).position("sgd")           ->  1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hpsweep.report.loading import Sweep


@dataclass(frozen=True)
class Axis:
    position: Callable[[str], float]  # a value as text -> its height in [0, 1]
    ticks: list[tuple[float, str]]  # (height, label)


def axis_of(values: list[str], log: bool) -> Axis:
    """The normalised axis of one parameter's values (numbers, or categories)."""
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        categories = sorted(set(values))
        step = 1 / max(len(categories) - 1, 1)
        return Axis(
            lambda v: categories.index(v) * step,
            [(i * step, c) for i, c in enumerate(categories)],
        )
    log = log and min(numbers) > 0
    scale = math.log10 if log else float
    low, high = scale(min(numbers)), scale(max(numbers))
    span = (high - low) or 1.0

    def position(value: str) -> float:
        return (scale(float(value)) - low) / span

    ticks = [(position(v), f"{float(v):.3g}") for v in _tick_values(numbers, log)]
    # Round values too close to an end would print over the end's own label.
    ends = (ticks[0][0], ticks[-1][0])
    ticks = [t for t in ticks if t[0] in ends or min(abs(t[0] - e) for e in ends) > 0.06]
    return Axis(position, ticks)


def _tick_values(numbers: list[float], log: bool) -> list[str]:
    """Up to six round values inside the range, its ends included."""
    from matplotlib.ticker import LogLocator, MaxNLocator

    low, high = min(numbers), max(numbers)
    if low == high:
        return [repr(low)]
    locator = LogLocator(numticks=6) if log else MaxNLocator(5)
    inside = [v for v in locator.tick_values(low, high) if low < v < high]
    return [repr(float(v)) for v in [low, *inside, high]]


# More lines than this are one colour mass: a bigger sweep draws its best this many.
MOST_LINES = 1000


def draw_parallel_coordinates(
    sweep: Sweep, figure: Any, names: list[str], most: int = MOST_LINES
) -> None:
    """One line per trial with a value (at most `most`, the best), pruned ones dashed.
    The lines are two LineCollections, solid and dashed: one artist each, not one per
    trial (10,000 Line2Ds took 12 s to draw)."""
    import numpy as np
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LogNorm, Normalize

    valued = [t for t in sweep.trials if t.has_value and all(n in t.params for n in names)]
    axis = figure.subplots()
    if not valued:
        return
    # Best first; drawn poorest first, so the best lines lie on top.
    ranked = sorted(valued, key=lambda t: t.value, reverse=sweep.mode == "max")
    trials = ranked[:most][::-1]
    values = [t.value for t in trials]
    low, high = min(values), max(values)
    log_value = low > 0 and high / low >= 10
    # Dark is best: the colour scale runs from the best value to the poorest.
    norm = (LogNorm if log_value else Normalize)(low, high)
    cmap = "viridis" if sweep.mode == "min" else "viridis_r"
    colours = ScalarMappable(norm=norm, cmap=cmap)
    axes = [axis_of([t.params[n] for t in trials], n in sweep.log_scaled) for n in names]
    value_axis = axis_of([repr(v) for v in values], log_value)

    def heights(trial: Any) -> list[float]:
        """The trial's line: its height on each parameter's axis, then on the value's."""
        on_params = [a.position(trial.params[n]) for a, n in zip(axes, names, strict=True)]
        return [*on_params, value_axis.position(repr(trial.value))]

    for style in ("--", "-"):  # pruned trials (poorer, mostly) under the rest
        drawn = [t for t in trials if (t.status == "pruned") == (style == "--")]
        if not drawn:
            continue
        lines = [list(enumerate(heights(t))) for t in drawn]
        colour = colours.to_rgba(np.array([t.value for t in drawn]))  # one call, not one a line
        axis.add_collection(
            LineCollection(lines, colors=colour, linestyles=style, linewidths=1.4, alpha=0.85)
        )
    labels = [n + (" (log)" if n in sweep.log_scaled else "") for n in names]
    for x, parameter_axis in enumerate([*axes, value_axis]):
        axis.axvline(x, color="0.3", linewidth=0.8)
        for height, label in parameter_axis.ticks:
            axis.text(x + 0.02, height, label, fontsize=7, va="center", color="0.2")
    axis.set_xticks(range(len(labels) + 1), [*labels, sweep.metric])
    axis.set_xlim(-0.1, len(labels) + 0.4)
    axis.set_ylim(-0.05, 1.05)
    axis.set_yticks([])
    for side in ("left", "right", "top"):
        axis.spines[side].set_visible(False)
    figure.colorbar(colours, ax=axis, label=sweep.metric)
    shown = f"the best {len(trials)} of {len(valued)}" if len(trials) < len(valued) else ""
    axis.set_title(
        f"parallel coordinates: {shown or len(trials)} trials, dashed = pruned (last value)"
    )
