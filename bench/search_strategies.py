"""Benchmark: random vs TPE vs successive halving vs Hyperband on digits.

Each strategy runs as `python train.py -m hydra/sweeper=<preset>` over the same mixed
space (learning rate, width, depth, dropout), 27 epochs at most per trial, for
several sampler seeds. Early stopping's patience is lifted so that only the pruners
cut trials short. SHA and Hyperband propose with the random sampler, as in the
Hyperband paper and Optuna's reference comparison, so that what they gain over random
search is the pruning alone (TPE is measured on its own). From each sweep's
results.csv (rows in the order trials ended) we follow the best finished val/loss
against the epochs consumed so far.

The reference: the same Hyperband search written as Optuna users write it, one
process, `study.optimize` over the same `train` function reporting every epoch
(same sampler seed, same study name so Optuna puts each trial in the same bracket).
If running inside a Hydra multirun loses nothing, both spend the same epochs.

Prints, per seed and as medians: each strategy's final best and epochs used, and
the share of random search's epochs that hyperband (SHA, the in-process reference)
needed to come within 1% of random search's final best (target for hyperband:
<= 0.20); the wall-time ratio; whether TPE beat random. Writes a plot of best-so-far
against epochs.

    python bench/search_strategies.py [--seeds 0 1 2 3 4] [--out docs]
"""

from __future__ import annotations

import argparse
import copy
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from hydra import compose, initialize_config_dir

from hpsweep.sweep.outcome import RunStatus
from hpsweep.sweep.resolvers import register_resolvers
from hpsweep.training import train
from hpsweep.training.callbacks import RunState, TrainingCallback

ROOT = Path(__file__).resolve().parents[1]
MAX_EPOCHS = 27
SPACE = [
    "optimizer.lr=tag(log,interval(1e-5,1e-1))",
    "model.width=tag(log,int(interval(16,512)))",
    "model.depth=range(1,4)",
    "regularization.dropout=interval(0,0.5)",
]
FIXED = [
    f"trainer.epochs={MAX_EPOCHS}",
    "trainer.device=cpu",
    "callbacks.early_stopping.patience=1000",
    "~callbacks.checkpoint",
    "~callbacks.tensorboard",
]
RANDOM_SAMPLER = ["hydra/sweeper/sampler=random"]
# preset -> (trials, overrides). Pruned strategies get more trials: they spend far
# fewer epochs each.
STRATEGIES = {
    "random": (40, []),
    "tpe": (40, []),
    "sha": (80, RANDOM_SAMPLER),
    "hyperband": (80, RANDOM_SAMPLER),
}
TOLERANCE = 0.01
TARGET = 0.20
Trial = tuple[int, float | None]  # (epochs it ran, its value; None when pruned)


def run_sweep(preset: str, seed: int, sweep_dir: Path) -> float:
    trials, overrides = STRATEGIES[preset]
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "train.py"),
            "-m",
            f"hydra/sweeper={preset}",
            *overrides,
            *SPACE,
            *FIXED,
            f"hydra.sweeper.n_trials={trials}",
            f"hydra.sweeper.seed={seed}",
            f"hydra.sweeper.study_name={preset}-{seed}",
            f"hydra.sweep.dir={sweep_dir}",
        ],
        check=True,
        capture_output=True,
        cwd=sweep_dir.parent,
    )
    return time.perf_counter() - started


def sweep_trials(sweep_dir: Path) -> list[Trial]:
    """The sweep's trials from its results.csv, in the order they ended."""
    with (sweep_dir / "results.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    return [
        (
            int(row["epochs"] or 0),
            float(row["value"]) if row["status"] in ("complete", "early_stopped") else None,
        )
        for row in rows
    ]


class ReportToTrial(TrainingCallback):
    """What an Optuna user adds to a training loop: report each epoch, stop when pruned."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        self.trial.report(metrics["val/loss"], step=run.epoch)
        if run.epoch < run.max_epochs and self.trial.should_prune():
            run.stop(RunStatus.PRUNED)


def optuna_in_process(seed: int, trials: int, study_name: str) -> list[Trial]:
    """The hyperband sweep as a hand-written Optuna loop calling the same `train`."""
    register_resolvers()  # conf/ uses them, as train.py does
    with initialize_config_dir(config_dir=str(ROOT / "conf")):
        base = compose("train", overrides=FIXED)
    ran: list[Trial] = []

    def objective(trial: optuna.Trial) -> float:
        cfg = copy.deepcopy(base)
        # SPACE, suggested in the same order with the same distributions.
        cfg.optimizer.lr = trial.suggest_float("optimizer.lr", 1e-5, 1e-1, log=True)
        cfg.model.width = trial.suggest_int("model.width", 16, 512, log=True)
        cfg.model.depth = trial.suggest_int("model.depth", 1, 3)
        cfg.regularization.dropout = trial.suggest_float("regularization.dropout", 0, 0.5)
        with tempfile.TemporaryDirectory() as out:
            metrics = train(cfg, Path(out), extra_callbacks=[ReportToTrial(trial)])
        pruned = metrics["status"] == str(RunStatus.PRUNED)
        ran.append((int(metrics["epochs"]), None if pruned else float(metrics["val/loss"])))
        if pruned:
            raise optuna.TrialPruned()
        return float(metrics["val/loss"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name,
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_EPOCHS),
    )
    study.optimize(objective, n_trials=trials)
    return ran


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()

    curves: dict[str, dict[int, list[tuple[int, float]]]] = {s: {} for s in STRATEGIES}
    walls: dict[str, dict[int, float]] = {s: {} for s in STRATEGIES}
    reference: dict[int, list[tuple[int, float]]] = {}
    same_epochs: dict[int, bool] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            ran: dict[str, list[Trial]] = {}
            for preset in STRATEGIES:
                sweep_dir = Path(tmp) / f"{preset}-{seed}"
                walls[preset][seed] = run_sweep(preset, seed, sweep_dir)
                ran[preset] = sweep_trials(sweep_dir)
                curves[preset][seed] = best_so_far(ran[preset])
                epochs, best = curves[preset][seed][-1]
                print(
                    f"seed {seed} {preset:9} best {best:.4f} after {epochs:5d} epochs, "
                    f"{walls[preset][seed]:6.1f} s",
                    flush=True,
                )
            hand_written = optuna_in_process(
                seed, STRATEGIES["hyperband"][0], study_name=f"hyperband-{seed}"
            )
            reference[seed] = best_so_far(hand_written)
            same_epochs[seed] = [e for e, _ in hand_written] == [e for e, _ in ran["hyperband"]]
            print(
                f"seed {seed} hyperband as one Optuna process: best {reference[seed][-1][1]:.4f} "
                f"after {reference[seed][-1][0]:5d} epochs; each trial ran the same epochs as "
                f"in the sweep: {'yes' if same_epochs[seed] else 'no'}",
                flush=True,
            )

    print(f"\nshare of random search's epochs needed to come within {TOLERANCE:.0%} of its best:")
    ratios: dict[str, list[float]] = {"sha": [], "hyperband": [], "in-process": []}
    curves_by_name = {**curves, "in-process": reference}
    for seed in args.seeds:
        random_epochs, random_best = curves["random"][seed][-1]
        level = random_best * (1 + TOLERANCE)
        cells = []
        for preset in ratios:
            reached = epochs_to_reach(curves_by_name[preset][seed], level)
            ratio = reached / random_epochs if reached is not None else float("inf")
            ratios[preset].append(ratio)
            cells.append(f"{preset} {ratio:.2f}" if reached is not None else f"{preset} never")
        print(f"  seed {seed}: random best {random_best:.4f}; " + ", ".join(cells))
    for preset, values in ratios.items():
        print(f"  median {preset}: {statistics.median(values):.2f}")
    hyperband = statistics.median(ratios["hyperband"])
    print(f"target hyperband <= {TARGET:.2f}: {'met' if hyperband <= TARGET else 'NOT met'}")
    print(
        "hyperband in the sweep spent the same epochs per trial as in one Optuna process in "
        f"{sum(same_epochs.values())} of {len(same_epochs)} seeds"
    )
    tpe_wins = sum(curves["tpe"][s][-1][1] <= curves["random"][s][-1][1] for s in args.seeds)
    print(f"TPE's best <= random's in {tpe_wins} of {len(args.seeds)} seeds")
    wall_ratio = statistics.median(walls["hyperband"].values()) / statistics.median(
        walls["random"].values()
    )
    print(f"median wall time hyperband / random: {wall_ratio:.2f}")

    args.out.mkdir(parents=True, exist_ok=True)
    plot(curves, args.out / "search-strategies.png")
    print(f"plot: {args.out / 'search-strategies.png'}")


def plot(curves: dict[str, dict[int, list[tuple[int, float]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    for color, (preset, by_seed) in zip(("C0", "C1", "C2", "C3"), curves.items(), strict=True):
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
