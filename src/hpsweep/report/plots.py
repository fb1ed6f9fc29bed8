"""The report's PNGs, written into the sweep folder.

Optuna draws what it knows how to draw (parameter importances, parallel coordinates)
from an in-memory study rebuilt from results.csv, so sweeps without a study (Hydra's
grid sweeper) get them too; the rest is plain matplotlib.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution

from hpsweep.report.loading import Sweep, Trial

LEARNING_CURVES_TOP = 5


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def distributions(sweep: Sweep) -> dict[str, BaseDistribution]:
    """A distribution per searched parameter, from the values the finished trials took."""
    result: dict[str, BaseDistribution] = {}
    for name in sweep.params:
        values = [t.params[name] for t in sweep.trials if t.finished and name in t.params]
        numbers = [_as_number(v) for v in values]
        if values and all(n is not None for n in numbers):
            low, high = min(numbers), max(numbers)  # type: ignore[type-var]
            if low == high:
                continue  # one value: nothing to learn about it
            log = low > 0 and high / low >= 100
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


def learning_curve(trial: Trial, tag: str) -> list[tuple[int, float]]:
    """(epoch, value) of one trial's TensorBoard scalar; empty without its log."""
    if trial.job_dir is None or not any(trial.job_dir.glob("events.out.tfevents.*")):
        return []
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    events = EventAccumulator(str(trial.job_dir), size_guidance={"tensors": 0})
    events.Reload()
    if tag not in events.Tags().get("tensors", []):
        return []
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]


def write_plots(sweep: Sweep) -> list[Path]:
    """Write every plot the sweep has data for; return their paths."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    written: list[Path] = []

    def save(figure: plt.Figure, name: str) -> None:
        path = sweep.path / name
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)

    finished = [t for t in sweep.trials if t.finished]
    if not finished:
        return written
    better = max if sweep.mode == "max" else min

    # 1. Best so far, against trial number and against epochs consumed.
    figure, (by_trial, by_epochs) = plt.subplots(1, 2, figsize=(11, 4))
    best, epochs_so_far, points = math.nan, 0, []
    for trial in sorted(sweep.trials, key=lambda t: t.number):
        epochs_so_far += trial.epochs
        if trial.finished:
            best = trial.value if math.isnan(best) else better(best, trial.value)
        points.append((trial.number, epochs_so_far, best, trial))
    for axis, x_index, label in ((by_trial, 0, "trial number"), (by_epochs, 1, "epochs consumed")):
        axis.step(
            [p[x_index] for p in points],
            [p[2] for p in points],
            where="post",
            color="C3",
            label="best so far",
        )
        axis.scatter(
            [p[x_index] for p in points if p[3].finished],
            [p[3].value for p in points if p[3].finished],
            s=12,
            color="C0",
            label="finished trial",
        )
        axis.set_xlabel(label)
        axis.set_ylabel(sweep.metric)
        axis.legend()
    figure.suptitle("optimization history")
    save(figure, "history.png")

    # 2. and 3. Optuna's own plots of the rebuilt study (experimental in Optuna).
    study = as_study(sweep)
    searched = {n for t in study.trials for n in t.params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if len(study.trials) >= 2 and searched:
            # Every trial with the same value (an app whose objective ignores what was
            # searched): nothing to attribute, and Optuna warns that importances are equal.
            if len({t.value for t in study.trials}) >= 2:
                axes = optuna.visualization.matplotlib.plot_param_importances(study)
                save(axes.figure, "importances.png")
            axes = optuna.visualization.matplotlib.plot_parallel_coordinate(study)
            save(axes.figure, "parallel_coordinates.png")

    # 4. The objective against the learning rate, the knob that usually matters most.
    with_lr = [t for t in finished if _as_number(t.params.get("optimizer.lr", "x"))]
    if with_lr:
        figure, axis = plt.subplots(figsize=(6, 4))
        axis.scatter([float(t.params["optimizer.lr"]) for t in with_lr], [t.value for t in with_lr])
        axis.set_xscale("log")
        axis.set_xlabel("optimizer.lr")
        axis.set_ylabel(sweep.metric)
        axis.set_title(f"{sweep.metric} against the learning rate")
        save(figure, "objective_vs_lr.png")

    # 5. Learning curves of the top trials, from their TensorBoard logs.
    curves = [(t, learning_curve(t, sweep.metric)) for t in sweep.ranked()[:LEARNING_CURVES_TOP]]
    curves = [(t, c) for t, c in curves if c]
    if curves:
        figure, axis = plt.subplots(figsize=(6, 4))
        for trial, curve in curves:
            axis.plot(
                [e for e, _ in curve],
                [v for _, v in curve],
                label=f"trial {trial.number} ({trial.status})",
            )
        axis.set_xlabel("epoch")
        axis.set_ylabel(sweep.metric)
        axis.set_title(f"learning curves of the top {len(curves)} trials")
        axis.legend()
        save(figure, "learning_curves.png")
    return written
