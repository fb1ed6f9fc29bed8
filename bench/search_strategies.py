"""Benchmark: random vs TPE vs successive halving vs Hyperband on digits.

Each strategy runs as `python train.py -m hydra/sweeper=<preset>` for several sampler
seeds, and the same Hyperband search (random sampler) runs again as a hand-written
Optuna loop in one process — `study.optimize` over the same `train` function reporting
every epoch, same sampler seed, same study name (`hpsweep`, the sweeper's default, so
that Optuna puts each trial in the same bracket). If running inside a Hydra multirun
loses nothing, both run the same trials for the same epochs.

Two spaces (`--space`):

- `current` (default): learning rate (log), width (log), depth and dropout, 27 epochs
  at most, early stopping's patience lifted; random (40 trials), TPE (40), SHA (80)
  and Hyperband (80), both with the random sampler.
- `reference` (issue 17's reference): the digits MLP of width 128, Adam, batch 64;
  learning rate log-uniform in [1e-5, 1], weight decay log-uniform in [1e-6, 1e-1],
  dropout uniform in [0, 0.7] — typed as plain `interval(...)`, so hpsweep's default
  scale rule is what makes the first two log-uniform; 40 trials of at most 27 epochs,
  no early stopping; random, Hyperband (min_resource 1, max_resource 27, reduction
  factor 3) with the random sampler, Hyperband as preset (TPE proposing), and TPE.

Best = the best final val/loss of a trial that ran to its end (pruned trials never
count); share = epochs a pruned search consumed until its best came within 1% of
random search's final best, over random search's epochs (1080). The last line is

    hyperband share of random's epochs: median <X> (optuna alone: <Y>)

with X for `hydra/sweeper=hyperband hydra/sweeper/sampler=random` through
`python train.py -m`, and Y for the same search in one Optuna process.

    python bench/search_strategies.py [--space reference] [--seeds 0 1 2 3 4]
        [--strategies random tpe] [--out docs] [--keep DIR]

With --keep, finished sweeps stay in DIR and a later run reuses them: seeds can run
one at a time (or in parallel processes) and a last run over all of them prints the
summary.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
from hydra import compose, initialize_config_dir
from hydra.core.plugins import Plugins
from omegaconf import DictConfig

from hpsweep.sweep.channel import DEFAULT_STUDY_NAME
from hpsweep.sweep.outcome import RunStatus
from hpsweep.training import train
from hpsweep.training.callbacks import RunState, TrainingCallback
from hpsweep.training.resolvers import register_resolvers

ROOT = Path(__file__).resolve().parents[1]
MAX_EPOCHS = 27
# One torch thread a trial: the figures are epochs and values, and on a shared machine
# one thread wastes least CPU to contention.
NO_FILES = [
    "trainer.device=cpu",
    "trainer.num_threads=1",
    "~callbacks.checkpoint",
    "~callbacks.tensorboard",
]
RANDOM_SAMPLER = ["hydra/sweeper/sampler=random"]
TOLERANCE = 0.01
TARGET = 0.25
Trial = tuple[int, float | None]  # (epochs it ran, its value; None when pruned)


@dataclass(frozen=True)
class Space:
    searched: list[str]  # the overrides, as a user types them
    fixed: list[str]
    # name -> (preset, trials, overrides)
    strategies: dict[str, tuple[str, int, list[str]]]
    hyperband: str  # the strategy that Optuna alone repeats (random sampler)
    suggest: Callable[[optuna.Trial, DictConfig], dict[str, float]]


def suggest_current(trial: optuna.Trial, cfg: DictConfig) -> dict[str, float]:
    """The current space's overrides, suggested in the same order and distributions."""
    cfg.optimizer.lr = trial.suggest_float("optimizer.lr", 1e-5, 1e-1, log=True)
    cfg.model.width = trial.suggest_int("model.width", 16, 512, log=True)
    cfg.model.depth = trial.suggest_int("model.depth", 1, 3)
    cfg.regularization.dropout = trial.suggest_float("regularization.dropout", 0, 0.5)
    return dict(trial.params)


def suggest_reference(trial: optuna.Trial, cfg: DictConfig) -> dict[str, float]:
    cfg.optimizer.lr = trial.suggest_float("optimizer.lr", 1e-5, 1, log=True)
    wd = trial.suggest_float("regularization.weight_decay", 1e-6, 1e-1, log=True)
    cfg.regularization.weight_decay = wd
    cfg.regularization.dropout = trial.suggest_float("regularization.dropout", 0, 0.7)
    return dict(trial.params)


SPACES = {
    "current": Space(
        searched=[
            "optimizer.lr=tag(log,interval(1e-5,1e-1))",
            "model.width=tag(log,int(interval(16,512)))",
            "model.depth=range(1,4)",
            "regularization.dropout=interval(0,0.5)",
        ],
        fixed=[f"trainer.epochs={MAX_EPOCHS}", "callbacks.early_stopping.patience=1000"],
        # Pruned strategies get more trials: they spend far fewer epochs each.
        strategies={
            "random": ("random", 40, []),
            "tpe": ("tpe", 40, []),
            "sha": ("sha", 80, RANDOM_SAMPLER),
            "hyperband": ("hyperband", 80, RANDOM_SAMPLER),
        },
        hyperband="hyperband",
        suggest=suggest_current,
    ),
    "reference": Space(
        # Plain intervals: log-uniform by hpsweep's rule (>= 2 decades), linear dropout.
        searched=[
            "optimizer.lr=interval(1e-5,1)",
            "regularization.weight_decay=interval(1e-6,1e-1)",
            "regularization.dropout=interval(0,0.7)",
        ],
        fixed=[
            f"trainer.epochs={MAX_EPOCHS}",
            "model=mlp",
            "model.width=128",
            "optimizer=adam",
            "trainer.batch_size=64",
            "~callbacks.early_stopping",
            "hydra.sweeper.pruner.min_resource=1",
            "hydra.sweeper.pruner.reduction_factor=3",
        ],
        strategies={
            "random": ("random", 40, []),
            "hyperband-random": ("hyperband", 40, RANDOM_SAMPLER),
            "hyperband": ("hyperband", 40, []),
            "tpe": ("tpe", 40, []),
        },
        hyperband="hyperband-random",
        suggest=suggest_reference,
    ),
}


def run_sweep(space: Space, name: str, seed: int, sweep_dir: Path) -> float:
    preset, trials, overrides = space.strategies[name]
    fixed = (
        space.fixed
        if preset in ("sha", "hyperband")
        else [f for f in space.fixed if not f.startswith("hydra.sweeper.pruner")]
    )
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "train.py"),
            "-m",
            f"hydra/sweeper={preset}",
            *overrides,
            *space.searched,
            *fixed,
            *NO_FILES,
            "~hydra.callbacks.report",
            f"hydra.sweeper.n_trials={trials}",
            f"hydra.sweeper.seed={seed}",
            f"hydra.sweep.dir={sweep_dir}",
        ],
        check=True,
        capture_output=True,
        cwd=sweep_dir.parent,
    )
    return time.perf_counter() - started


def kept_sweep(space: Space, name: str, seed: int, sweep_dir: Path) -> float:
    """run_sweep, unless a finished sweep of an earlier --keep run is there: its wall time."""
    wall = sweep_dir / "wall-seconds.txt"
    if not wall.is_file():
        if sweep_dir.exists():
            shutil.rmtree(sweep_dir)  # cut off: run it again
        sweep_dir.parent.mkdir(parents=True, exist_ok=True)
        seconds = run_sweep(space, name, seed, sweep_dir)
        wall.write_text(f"{seconds}\n")
    return float(wall.read_text())


def sweep_trials(sweep_dir: Path) -> tuple[list[Trial], list[dict[str, float]]]:
    """The sweep's trials from its results.csv, in the order they ended, and each
    trial's parameters."""
    with (sweep_dir / "results.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    trials = [
        (
            int(row["epochs"] or 0),
            float(row["value"]) if row["status"] in ("complete", "early_stopped") else None,
        )
        for row in rows
    ]
    fixed = {"number", "status", "value", "epochs", "seconds", "started", "finished"}
    # The rest are the parameters (dotted config keys) and the run's final metrics
    # (`val/loss`, `test/acc`, …: their names hold a slash).
    params = [
        {
            k: float(v)
            for k, v in row.items()
            if k not in fixed and k not in ("job_dir", "reason") and "/" not in k
        }
        for row in rows
    ]
    return trials, params


class ReportToTrial(TrainingCallback):
    """What an Optuna user adds to a training loop: report each epoch, stop when pruned."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        self.trial.report(metrics["val/loss"], step=run.epoch)
        if run.epoch < run.max_epochs and self.trial.should_prune():
            run.stop(RunStatus.PRUNED)


def optuna_in_process(
    space: Space, seed: int, trials: int
) -> tuple[list[Trial], list[dict[str, float]]]:
    """The hyperband sweep as a hand-written Optuna loop calling the same `train`."""
    register_resolvers()  # conf/ uses them, as train.py does
    Plugins.instance()  # registers the plugins' configs (hpsweep_tpe), as train.py does
    overrides = [o for o in space.fixed if not o.startswith("hydra.")] + NO_FILES
    with initialize_config_dir(config_dir=str(ROOT / "conf")):
        base = compose("train", overrides=overrides)
    ran: list[Trial] = []
    params: list[dict[str, float]] = []

    def objective(trial: optuna.Trial) -> float:
        cfg = copy.deepcopy(base)
        params.append(space.suggest(trial, cfg))
        with tempfile.TemporaryDirectory() as out:
            metrics = train(cfg, Path(out), extra_callbacks=[ReportToTrial(trial)]).to_json()
        pruned = metrics["status"] == str(RunStatus.PRUNED)
        ran.append((int(metrics["epochs"]), None if pruned else float(metrics["val/loss"])))
        if pruned:
            raise optuna.TrialPruned()
        return float(metrics["val/loss"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=DEFAULT_STUDY_NAME,  # the sweeper's: Hyperband's brackets hash it
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3
        ),
    )
    study.optimize(objective, n_trials=trials)
    return ran, params


def same_trials(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    """The same parameters, trial for trial (results.csv holds them as printed)."""
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(math.isclose(x[k], y[k], rel_tol=1e-9) for k in x)
        for x, y in zip(a, b, strict=True)
    )


def best_so_far(trials: list[Trial]) -> list[tuple[int, float]]:
    """(epochs consumed, best finished val/loss) after each trial."""
    curve, epochs, best = [], 0, float("inf")
    for ran, value in trials:
        epochs += ran
        if value is not None:
            best = min(best, value)
        curve.append((epochs, best))
    return curve


def epochs_to_reach(curve: list[tuple[int, float]], level: float) -> int | None:
    return next((epochs for epochs, best in curve if best <= level), None)


def share(curve: list[tuple[int, float]], level: float, out_of: int) -> float:
    reached = epochs_to_reach(curve, level)
    return reached / out_of if reached is not None else math.inf


def shown(ratio: float) -> str:
    return "never" if math.isinf(ratio) else f"{ratio:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", choices=sorted(SPACES), default="current")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--strategies", nargs="+", help="a subset of the space's strategies (random always)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the sweep folders here; a later run with the same --keep reuses the "
        "sweeps (and Optuna-alone runs) that finished, so seeds can be added one at a time",
    )
    args = parser.parse_args()
    space = SPACES[args.space]
    names = [n for n in space.strategies if not args.strategies or n in args.strategies]
    names = ["random", *[n for n in names if n != "random"]]
    alone = space.hyperband in names  # Optuna alone repeats the hyperband search

    curves: dict[str, dict[int, list[tuple[int, float]]]] = {n: {} for n in names}
    walls: dict[str, dict[int, float]] = {n: {} for n in names}
    reference: dict[int, list[tuple[int, float]]] = {}
    same: dict[int, bool] = {}
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        for seed in args.seeds:
            ran: dict[str, tuple[list[Trial], list[dict[str, float]]]] = {}
            for name in names:
                sweep_dir = keep / f"{name}-{seed}"
                walls[name][seed] = kept_sweep(space, name, seed, sweep_dir)
                ran[name] = sweep_trials(sweep_dir)
                curves[name][seed] = best_so_far(ran[name][0])
                epochs, best = curves[name][seed][-1]
                print(
                    f"seed {seed} {name:16} best {best:.4f} after {epochs:5d} epochs, "
                    f"{walls[name][seed]:6.1f} s",
                    flush=True,
                )
            if not alone:
                continue
            trials = space.strategies[space.hyperband][1]
            kept = keep / f"optuna-alone-{seed}.json"
            if kept.is_file():  # a finished run of an earlier --keep invocation
                hand_written, params = json.loads(kept.read_text())
                hand_written = [tuple(t) for t in hand_written]
            else:
                hand_written, params = optuna_in_process(space, seed, trials)
                kept.write_text(json.dumps([hand_written, params]))
            reference[seed] = best_so_far(hand_written)
            swept, swept_params = ran[space.hyperband]
            same[seed] = [e for e, _ in hand_written] == [e for e, _ in swept] and same_trials(
                params, swept_params
            )
            print(
                f"seed {seed} {space.hyperband} as one Optuna process: best "
                f"{reference[seed][-1][1]:.4f} after {reference[seed][-1][0]:5d} epochs; the "
                f"same trials for the same epochs as in the sweep: {'yes' if same[seed] else 'no'}",
                flush=True,
            )

    pruned = [n for n in names if n in ("sha", "hyperband", "hyperband-random")]
    ratios: dict[str, list[float]] = {n: [] for n in pruned}
    if alone:
        ratios["optuna alone"] = []
    curves_by_name = {**curves, "optuna alone": reference}
    print(f"\nshare of random search's epochs needed to come within {TOLERANCE:.0%} of its best:")
    for seed in args.seeds:
        random_epochs, random_best = curves["random"][seed][-1]
        level = random_best * (1 + TOLERANCE)
        for name in ratios:
            ratios[name].append(share(curves_by_name[name][seed], level, random_epochs))
        cells = ", ".join(f"{name} {shown(values[-1])}" for name, values in ratios.items())
        print(f"  seed {seed}: random best {random_best:.4f}; {cells}")
    for name, values in ratios.items():
        print(f"  median {name}: {shown(statistics.median(values))}")
    for name in names[1:]:
        wins = sum(curves[name][s][-1][1] <= curves["random"][s][-1][1] for s in args.seeds)
        print(f"{name}'s best <= random's in {wins} of {len(args.seeds)} seeds")
    if "tpe" in names:
        print("TPE's best: " + ", ".join(f"{curves['tpe'][s][-1][1]:.4f}" for s in args.seeds))
        print("random's:   " + ", ".join(f"{curves['random'][s][-1][1]:.4f}" for s in args.seeds))
    for name in names[1:]:
        ratio = statistics.median(walls[name].values()) / statistics.median(
            walls["random"].values()
        )
        print(f"median wall time {name} / random: {ratio:.2f}")

    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.space == "current" else f"-{args.space}"
    figure = args.out / f"search-strategies{suffix}.png"
    plot(curves, figure)
    print(f"plot: {figure}")
    if alone:
        print(
            f"{space.hyperband} in the sweep ran the same trials for the same epochs as in one "
            f"Optuna process in {sum(same.values())} of {len(same)} seeds"
        )
        x = statistics.median(ratios[space.hyperband])
        y = statistics.median(ratios["optuna alone"])
        print(f"hyperband share of random's epochs: median {shown(x)} (optuna alone: {shown(y)})")


def plot(curves: dict[str, dict[int, list[tuple[int, float]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    for color, (preset, by_seed) in zip(("C0", "C1", "C2", "C3"), curves.items(), strict=False):
        for index, curve in enumerate(by_seed.values()):
            epochs = [e for e, b in curve if b < float("inf")]
            best = [b for b in (b for _, b in curve) if b < float("inf")]
            axis.step(
                epochs,
                best,
                where="post",
                color=color,
                alpha=0.6,
                label=preset if index == 0 else None,
            )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_ylim(top=0.3)  # the first trials' losses would flatten everything else
    axis.set_xlabel("epochs consumed (all trials so far)")
    axis.set_ylabel("best val/loss so far")
    axis.set_title("digits MLP: search strategies, one line per sampler seed")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
