"""The report's PNGs, written into the sweep folder.

    history.png               every trial's value and the best so far, by trial and by epochs
    objective_vs_params.png   the objective against each searched parameter
    parallel_coordinates.png  every trial across the parameters, coloured by its value
    importances.png           Optuna's fANOVA importances (two searched parameters or more)
    learning_curves.png       the objective per epoch of every trial, the top ones in colour
    pareto_front.png          several objectives: the front among every trial (report.pareto)

Every trial with a value appears in every plot, marked by its status: pruned trials at
the last value they reported, diverged and failed ones (no value) as ticks along the
bottom of the history. Parameters searched on a log scale (Sweep.log_scaled) get log
axes, and so does the objective once its values span a decade. Optuna draws the
importances from an in-memory study rebuilt from results.csv, so sweeps without a study
(Hydra's grid sweeper) get them too; the rest is plain matplotlib.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution

from hpsweep.report.loading import Sweep, Trial
from hpsweep.report.numbers import readable
from hpsweep.report.parallel import draw_parallel_coordinates
from hpsweep.report.pareto import draw_pareto

if TYPE_CHECKING:
    from matplotlib.axes import Axes

TOP_IN_COLOUR = 5
# How each status is drawn, everywhere: (marker, colour, label).
STYLE = {
    "complete": ("o", "C0", "complete"),
    "early_stopped": ("s", "C2", "early stopped"),
    "pruned": ("x", "C1", "pruned (last value)"),
    "diverged": ("v", "C3", "diverged (no value)"),
    "failed": ("v", "C3", "failed (no value)"),
}
DECADE = 10
MAX_PARAMS = 8  # parameters drawn side by side; a sweep of more shows its first 8


def _value_scale(values: list[float]) -> str:
    """The objective's axis: log once its values span a decade."""
    return "log" if min(values, default=0) > 0 and max(values) / min(values) >= DECADE else "linear"


def importance_note(sweep: Sweep) -> str | None:
    """Why there is no importances plot, in one sentence; None when there is one."""
    searched = list(distributions(sweep))
    if len(searched) < 2:
        which = f" ({searched[0]})" if searched else ""
        return (
            f"No parameter importances: they compare two searched parameters or more, and "
            f"this sweep varied {len(searched)}{which}."
        )
    if len({t.value for t in sweep.trials if t.finished}) < 2:
        # An app whose objective ignores what was searched: nothing to attribute, and
        # Optuna warns that every importance is equal.
        return "No parameter importances: every finished trial has the same value."
    return None


def distributions(sweep: Sweep) -> dict[str, BaseDistribution]:
    """A distribution per searched parameter, from the values the finished trials took,
    on the scale the sweep searched it."""
    result: dict[str, BaseDistribution] = {}
    for name in sweep.params:
        values = [t.params[name] for t in sweep.trials if t.finished and name in t.params]
        if values and sweep.numeric(name):
            numbers = [float(v) for v in values]
            low, high = min(numbers), max(numbers)
            if low == high:
                continue  # one value: nothing to learn about it
            log = name in sweep.log_scaled and low > 0
            result[name] = FloatDistribution(low, high, log=log)
        elif len(set(values)) > 1:
            result[name] = CategoricalDistribution(sorted(set(values)))
    return result


def as_study(sweep: Sweep) -> optuna.Study:
    """The finished trials as an in-memory Optuna study."""
    dists = distributions(sweep)
    direction = "maximize" if sweep.mode == "max" else "minimize"
    # Optuna announces every new study at INFO; this one is ours, made to draw from, and
    # its "A new study created in memory with name: no-name-..." line would only puzzle
    # whoever reads the sweep's log.
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction=direction)
    finally:
        optuna.logging.set_verbosity(verbosity)
    for trial in sweep.trials:
        if not trial.finished:
            continue
        params = {
            name: float(trial.params[name])
            if isinstance(dist, FloatDistribution)
            else trial.params[name]
            for name, dist in dists.items()
            if name in trial.params
        }
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={n: dists[n] for n in params},
                value=trial.value,
            )
        )
    return study


@contextlib.contextmanager
def quiet(logger_name: str, level: int = logging.WARNING) -> Iterator[None]:
    """Raise one logger's level for a while. TensorBoard's event reader logs "No path
    found after <file>" at INFO for every log it reads to the end, through the root
    logger that Hydra configured: at a sweep's end that was a screenful of [HYDRA] lines."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def learning_curve(trial: Trial, tag: str) -> list[tuple[int, float]]:
    """(epoch, value) of one trial's TensorBoard scalar; empty without its log."""
    return [] if trial.job_dir is None else tensorboard_curve(trial.job_dir, tag)


def tensorboard_curve(run: Path, tag: str) -> list[tuple[int, float]]:
    """(step, value) of a TensorBoard run's scalar; empty without its log."""
    if not any(run.glob("events.out.tfevents.*")):
        return []
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    with quiet("tensorboard"):
        events = EventAccumulator(str(run), size_guidance={"tensors": 0})
        events.Reload()
    if tag not in events.Tags().get("tensors", []):
        return []
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]


def _by_status(axis: Axes, points: list[tuple[float, Trial]]) -> None:
    """Scatter (x, trial) at the trial's value, one marker per status."""
    for status, (marker, colour, label) in STYLE.items():
        chosen = [(x, t) for x, t in points if t.status == status and t.has_value]
        if chosen:
            xs, ys = [x for x, _ in chosen], [t.value for _, t in chosen]
            axis.scatter(xs, ys, marker=marker, color=colour, s=22, label=label, zorder=3)
            # With repeats: the value is a mean over seeds, its bar one sd either side.
            bars = [(x, t.value, t.value_sd) for x, t in chosen if math.isfinite(t.value_sd)]
            if bars:
                axis.errorbar(
                    [b[0] for b in bars],
                    [b[1] for b in bars],
                    yerr=[b[2] for b in bars],
                    fmt="none",
                    ecolor=colour,
                    elinewidth=0.8,
                    capsize=2,
                    zorder=2,
                )


def _no_value_ticks(axis: Axes, points: list[tuple[float, Trial]]) -> None:
    """Diverged and failed trials have no value: a tick along the bottom marks them."""
    xs = [x for x, t in points if not t.has_value]
    if xs:
        axis.plot(
            xs,
            [0.0] * len(xs),
            "v",
            color="C3",
            transform=axis.get_xaxis_transform(),
            clip_on=False,
            label="diverged / failed (no value)",
        )


def draw_history(sweep: Sweep, figure: Any) -> None:
    by_trial, by_epochs = figure.subplots(1, 2)
    better = max if sweep.mode == "max" else min
    best, epochs_so_far = math.nan, 0
    rows: list[tuple[int, int, float, Trial]] = []
    for trial in sorted(sweep.trials, key=lambda t: t.number):
        epochs_so_far += trial.epochs * trial.jobs  # every repeat's epochs
        if trial.finished:
            best = trial.value if math.isnan(best) else better(best, trial.value)
        rows.append((trial.number, epochs_so_far, best, trial))
    values = [t.value for t in sweep.trials if t.has_value]
    for axis, index, label in ((by_trial, 0, "trial number"), (by_epochs, 1, "epochs consumed")):
        xs = [row[index] for row in rows]
        axis.step(xs, [row[2] for row in rows], where="post", color="k", label="best so far")
        points = [(float(row[index]), row[3]) for row in rows]
        _by_status(axis, points)
        _no_value_ticks(axis, points)
        axis.set_yscale(_value_scale(values))
        axis.set_xlabel(label)
        axis.set_ylabel(sweep.metric)
        _integer_ticks(axis)
    by_trial.legend(fontsize="small")
    figure.suptitle(f"optimization history ({sweep.mode} {sweep.metric}, finished trials rank)")


def draw_objective_vs_params(sweep: Sweep, figure: Any, names: list[str]) -> None:
    axes = figure.subplots(1, len(names), sharey=True, squeeze=False)[0]
    values = [t.value for t in sweep.trials if t.has_value]
    for axis, name in zip(axes, names, strict=True):
        with_param = [t for t in sweep.trials if name in t.params and t.has_value]
        if sweep.numeric(name):
            points = [(float(t.params[name]), t) for t in with_param]
            axis.set_xscale("log" if name in sweep.log_scaled else "linear")
        else:
            categories = sorted({t.params[name] for t in with_param})
            points = [(float(categories.index(t.params[name])), t) for t in with_param]
            # A choice of numbers (choice(0.001, 0.01)) is categorical too: round its labels.
            axis.set_xticks(range(len(categories)), [readable(c) for c in categories])
        _by_status(axis, points)
        axis.set_xlabel(name + (" (log)" if name in sweep.log_scaled else ""))
        axis.set_yscale(_value_scale(values))
    axes[0].set_ylabel(sweep.metric)
    if axes[0].get_legend_handles_labels()[0]:  # an empty legend is a matplotlib warning
        axes[0].legend(fontsize="small")
    figure.suptitle(f"{sweep.metric} against each searched parameter")


def _integer_ticks(axis: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))


def write_plots(sweep: Sweep) -> list[Path]:
    """Write every plot the sweep has data for; return their paths."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    written: list[Path] = []

    def save(figure: Any, name: str) -> None:
        path = sweep.path / name
        # Drawn beside it and renamed: a reader (a browser, a second report) sees the
        # old image or the new one, never a half-written file.
        partial = path.with_name(f".{name}.partial")
        figure.savefig(partial, dpi=110, format="png")
        plt.close(figure)
        partial.replace(path)
        written.append(path)

    if not any(t.has_value for t in sweep.trials):
        return written
    save(figure_of(plt, (11, 4), lambda f: draw_history(sweep, f)), "history.png")

    names = [n for n in sweep.params if any(n in t.params for t in sweep.trials)][:MAX_PARAMS]
    if names:
        size = (max(4.5, 3.2 * len(names)), 4)
        slices = figure_of(plt, size, lambda f: draw_objective_vs_params(sweep, f, names))
        save(slices, "objective_vs_params.png")
        parallel = figure_of(plt, (10, 4.5), lambda f: draw_parallel_coordinates(sweep, f, names))
        save(parallel, "parallel_coordinates.png")

    if importance_note(sweep) is None:
        study = as_study(sweep)
        # Optuna switches matplotlib to its ggplot style sheet for good: keep it to this plot.
        with warnings.catch_warnings(), plt.style.context("default"):
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # experimental
            axis = optuna.visualization.matplotlib.plot_param_importances(study)
        axis.figure.set_size_inches(7, 0.8 + 0.5 * len(study.best_params))
        axis.figure.tight_layout()
        save(axis.figure, "importances.png")

    timed = [t for t in sweep.trials if t.started_at is not None and t.ended_at is not None]
    if timed:
        height = 1.5 + 0.18 * len(timed)
        save(
            figure_of(plt, (9, min(height, 12)), lambda f: draw_timeline(timed, f)), "timeline.png"
        )

    if sweep.several_objectives:
        save(figure_of(plt, (7, 5), lambda f: draw_pareto(sweep, f)), "pareto_front.png")
    if sweep.pbt:
        from hpsweep.report.population import draw_population  # it draws with this room's

        save(figure_of(plt, (12, 4.5), lambda f: draw_population(sweep, f)), "population.png")

    curves = {t.number: learning_curve(t, sweep.metric) for t in sweep.trials if t.has_value}
    if any(curves.values()):
        drawn = figure_of(plt, (7, 4.5), lambda f: draw_learning_curves(sweep, f, curves))
        save(drawn, "learning_curves.png")
    return written


def draw_timeline(trials: list[Trial], figure: Any) -> None:
    """One bar per trial from its start to its end, coloured by status: with several
    workers, gaps between bars are idle workers (a batch waiting for its longest trial
    shows as a staircase of gaps; hpsweep's dispatch refills a slot at once). The bars
    of a status are one PolyCollection: one artist a trial took 38 s for 10,000."""
    from matplotlib.collections import PolyCollection
    from matplotlib.ticker import MaxNLocator

    axis = figure.subplots()
    origin = min(t.started_at for t in trials if t.started_at is not None)
    bars: dict[str, list[list[tuple[float, float]]]] = {}
    for trial in trials:
        assert trial.started_at is not None and trial.ended_at is not None
        start = (trial.started_at - origin).total_seconds()
        end = (trial.ended_at - origin).total_seconds()
        top, bottom = trial.number - 0.4, trial.number + 0.4
        bar = [(start, top), (end, top), (end, bottom), (start, bottom)]
        bars.setdefault(trial.status, []).append(bar)
    for status, shapes in bars.items():
        _, colour, label = STYLE.get(status, ("", "0.5", status))
        # an edge as wide as a pixel: a bar shorter than one (a no-op trial) still shows
        axis.add_collection(
            PolyCollection(
                shapes, facecolors=colour, edgecolors=colour, linewidths=0.5, label=label
            )
        )
    axis.autoscale_view()
    axis.set_xlabel("seconds since the first trial started")
    axis.set_ylabel("trial")
    axis.invert_yaxis()
    if len(trials) <= 30:
        axis.set_yticks(sorted(t.number for t in trials))
    else:
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    axis.legend(fontsize="small", loc="lower right")
    axis.set_title("when each trial ran")


def figure_of(plt: Any, size: tuple[float, float], draw: Callable[[Any], None]) -> Any:
    """A new figure of `size` (inches), laid out by matplotlib, drawn on by `draw`."""
    figure = plt.figure(figsize=size, layout="constrained")
    draw(figure)
    return figure


def draw_learning_curves(sweep: Sweep, figure: Any, curves: dict[int, list]) -> None:
    axis = figure.subplots()
    top = [t.number for t in sweep.ranked()[:TOP_IN_COLOUR]]
    by_number = {t.number: t for t in sweep.trials}
    # The rest first, thin and grey (pruned ones dashed), so the leaders are drawn on top.
    for number, curve in curves.items():
        if number in top or not curve:
            continue
        style = "--" if by_number[number].status == "pruned" else "-"
        # A marker too: a trial pruned after one epoch is a single point.
        axis.plot(*zip(*curve, strict=True), style, marker=".", color="0.6", linewidth=0.8)
    for rank, number in enumerate(top, start=1):
        if curves.get(number):
            trial = by_number[number]
            label = f"#{rank}: trial {number} ({trial.status})"
            axis.plot(*zip(*curves[number], strict=True), color=f"C{rank - 1}", label=label)
    axis.plot([], [], "--", color="0.6", linewidth=0.8, label="pruned trials")
    axis.plot([], [], "-", color="0.6", linewidth=0.8, label="other trials")
    values = [v for curve in curves.values() for _, v in curve]
    axis.set_yscale(_value_scale(values))
    axis.set_xlabel("epoch")
    axis.set_ylabel(sweep.metric)
    _integer_ticks(axis)
    axis.legend(fontsize="small")
    axis.set_title(f"{sweep.metric} per epoch: the top {len(top)} in colour")
