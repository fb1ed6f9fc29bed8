"""Benchmark: random vs TPE vs successive halving vs Hyperband on digits.

Each strategy runs as `python train.py -m hydra/sweeper=<preset>` over the same mixed
space (learning rate, width, depth, dropout), 27 epochs at most per trial, for
several sampler seeds. Early stopping's patience is lifted so that only the pruners
cut trials short. From each sweep's results.csv (rows in the order trials ended) we
follow the best finished val/loss against the epochs consumed so far.

Prints, per seed and as medians: each strategy's final best and epochs used, and
the share of random search's epochs that hyperband (and SHA) needed to come within
1% of random search's final best (target for hyperband: <= 0.20); the wall-time
ratio; whether TPE beat random. Writes a plot of best-so-far against epochs.

    python bench/search_strategies.py [--seeds 0 1 2 3 4] [--out docs]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_EPOCHS = 27
SPACE = [
    "optimizer.lr=tag(log,interval(1e-5,1e-1))",
    "model.width=tag(log,int(interval(16,512)))",
    "model.depth=range(1,4)",
    "regularization.dropout=interval(0,0.5)",
]
# preset -> trials. Pruned strategies get more trials: they spend far fewer epochs each.
STRATEGIES = {"random": 40, "tpe": 40, "sha": 80, "hyperband": 80}
TOLERANCE = 0.01
TARGET = 0.20


def run_sweep(preset: str, trials: int, seed: int, sweep_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "train.py"),
            "-m",
            f"hydra/sweeper={preset}",
            *SPACE,
            f"hydra.sweeper.n_trials={trials}",
            f"hydra.sweeper.seed={seed}",
            f"trainer.epochs={MAX_EPOCHS}",
            "callbacks.early_stopping.patience=1000",
            "~callbacks.checkpoint",
            "~callbacks.tensorboard",
            f"hydra.sweep.dir={sweep_dir}",
        ],
        check=True,
        capture_output=True,
        cwd=sweep_dir.parent,
    )
    return time.perf_counter() - started


def best_so_far(sweep_dir: Path) -> list[tuple[int, float]]:
    """(epochs consumed, best finished val/loss) after each trial, in the order they ended."""
    with (sweep_dir / "results.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    curve, epochs, best = [], 0, float("inf")
    for row in rows:
        epochs += int(row["epochs"] or 0)
        if row["status"] in ("complete", "early_stopped"):
            best = min(best, float(row["value"]))
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
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for preset, trials in STRATEGIES.items():
                sweep_dir = Path(tmp) / f"{preset}-{seed}"
                walls[preset][seed] = run_sweep(preset, trials, seed, sweep_dir)
                curves[preset][seed] = best_so_far(sweep_dir)
                epochs, best = curves[preset][seed][-1]
                print(
                    f"seed {seed} {preset:9} best {best:.4f} after {epochs:5d} epochs, "
                    f"{walls[preset][seed]:6.1f} s",
                    flush=True,
                )

    print(f"\nshare of random search's epochs needed to come within {TOLERANCE:.0%} of its best:")
    ratios: dict[str, list[float]] = {"sha": [], "hyperband": []}
    for seed in args.seeds:
        random_epochs, random_best = curves["random"][seed][-1]
        level = random_best * (1 + TOLERANCE)
        cells = []
        for preset in ratios:
            reached = epochs_to_reach(curves[preset][seed], level)
            ratio = reached / random_epochs if reached is not None else float("inf")
            ratios[preset].append(ratio)
            cells.append(f"{preset} {ratio:.2f}" if reached is not None else f"{preset} never")
        print(f"  seed {seed}: random best {random_best:.4f}; " + ", ".join(cells))
    for preset, values in ratios.items():
        print(f"  median {preset}: {statistics.median(values):.2f}")
    hyperband = statistics.median(ratios["hyperband"])
    print(f"target hyperband <= {TARGET:.2f}: {'met' if hyperband <= TARGET else 'NOT met'}")
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
