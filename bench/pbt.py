"""Benchmark: Population Based Training against random search and Hyperband at equal
epochs, each winner's test loss retrained on fresh seeds.

The task, chosen because a schedule matters there: train.py on digits with plain SGD
(no momentum, batches of 32, no learning-rate schedule, early stopping off), `--epochs`
epochs, the learning rate searched log-uniformly over [1e-3, 1] and dropout over
[0, 0.5]. At a constant rate, SGD's gradient noise keeps the weights from settling: a
large rate learns fast and ends noisy, a small one ends precise and learns slowly. A
run whose rate falls as it trains needs neither compromise, and only PBT's winner can
be such a run (random search and Hyperband pick one constant). Three arms per sweep
seed, each a real `python train.py -m ...` in a subprocess:

    pbt         hydra/sweeper=pbt, `--population` members, a decision every
                `--interval` epochs: population x epochs epochs in all
    random      hydra/sweeper=random, `--population` trials: the same epochs
    hyperband   hydra/sweeper=hyperband, read at the same epochs (trials in the order
                they ended while their epochs add up to no more than the budget)

Each winner is trained again with `--fresh` fresh seeds (trainer.seed=1000, 1001, ...):
random's and Hyperband's best configuration as it is, PBT's best schedule replayed
(best.yaml: trainer.schedule); its test loss is the mean over those runs. Prints each
seed's three figures, then the last line exactly
`pbt vs random at equal epochs: at least as good in <A> of 5, mean gap <G>`, where a
gap is random's test loss minus PBT's (positive: PBT better).

    python bench/pbt.py [--seeds 0 1 2 3 4] [--population 8] [--epochs 30] [--interval 5]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from hpsweep.sweep.results import ended_within

REPO = Path(__file__).resolve().parents[1]
SPACE = [
    "optimizer=sgd",
    "optimizer.lr=tag(log,interval(1e-3,1))",
    "regularization=dropout",
    "regularization.dropout=interval(0,0.5)",
]
# Plain SGD: no momentum, small batches, no schedule: its noise at a constant rate is
# what a falling rate removes.
TASK = ["optimizer.momentum=0", "trainer.batch_size=32"]
COMMON = [*TASK, "~callbacks.early_stopping", "hydra.sweeper.report=false"]
COMMON += ["trainer.num_threads=1"]
FRESH_SEED = 1000


def run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "train.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"train.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def rows_of(sweep_dir: Path) -> list[dict[str, str]]:
    with (sweep_dir / "results.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def sweep(arm: str, seed: int, n_trials: int, options: argparse.Namespace, work: Path) -> Path:
    sweep_dir = work / f"{arm}-{seed}"
    more = [f"hydra.sweeper.n_trials={n_trials}"]
    if arm == "pbt":
        more = [
            f"hydra.sweeper.pbt.population={options.population}",
            f"hydra.sweeper.pbt.interval={options.interval}",
        ]
    run(
        [
            "-m",
            f"hydra/sweeper={arm}",
            *SPACE,
            *COMMON,
            *options.override,
            *more,
            f"trainer.epochs={options.epochs}",
            f"hydra.sweeper.seed={seed}",
            f"hydra.sweep.dir={sweep_dir}",
        ],
        work,
    )
    return sweep_dir


def best_within(rows: list[dict[str, str]], budget: int) -> tuple[dict[str, str], int]:
    """The best finished row among those that ended within `budget` epochs, in the
    order they ended; and the epochs those rows trained."""
    within, spent = ended_within(rows, budget)
    finished = [row for row in within if row["status"] == "complete"]
    return min(finished, key=lambda r: float(r["value"])), spent


def fresh_test_loss(config_dir: Path, config_name: str, fresh: int, work: Path) -> float:
    """The mean test loss of a saved config trained again on `fresh` new seeds."""
    losses = []
    for seed in range(FRESH_SEED, FRESH_SEED + fresh):
        out = work / f"fresh-{config_dir.name}-{seed}"
        run(
            [
                *("--config-path", str(config_dir), "--config-name", config_name),
                f"trainer.seed={seed}",
                f"hydra.run.dir={out}",
            ],
            work,
        )
        losses.append(json.loads((out / "metrics.json").read_text())["test/loss"])
    return statistics.fmean(losses)


def one_seed(seed: int, options: argparse.Namespace, work: Path) -> dict[str, float]:
    budget = options.population * options.epochs
    losses = {}
    pbt = sweep("pbt", seed, 0, options, work)
    losses["pbt"] = fresh_test_loss(pbt, "best", options.fresh, work)
    for arm, n_trials in (("random", options.population), ("hyperband", 4 * options.population)):
        rows = rows_of(sweep(arm, seed, n_trials, options, work))
        best, spent = best_within(rows, budget)
        config = Path(best["job_dir"]) / ".hydra"
        losses[arm] = fresh_test_loss(config, "config", options.fresh, work)
        print(f"  {arm}: best trial {best['number']} within {spent} epochs", flush=True)
    return losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--fresh", type=int, default=3, help="fresh seeds per winner")
    parser.add_argument("--override", nargs="*", default=[], help="more train.py overrides")
    options = parser.parse_args()
    gaps, hyperband_gaps = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in options.seeds:
            losses = one_seed(seed, options, Path(tmp))
            gaps.append(losses["random"] - losses["pbt"])
            hyperband_gaps.append(losses["hyperband"] - losses["pbt"])
            print(
                f"seed {seed}: test loss on fresh seeds: pbt {losses['pbt']:.4f}, "
                f"random {losses['random']:.4f}, hyperband {losses['hyperband']:.4f}",
                flush=True,
            )
    print(
        f"budget: {options.population * options.epochs} epochs a sweep; pbt vs hyperband: "
        f"at least as good in {sum(g >= 0 for g in hyperband_gaps)} of {len(gaps)}, "
        f"mean gap {statistics.fmean(hyperband_gaps):+.4f}"
    )
    print(
        f"pbt vs random at equal epochs: at least as good in {sum(g >= 0 for g in gaps)} "
        f"of {len(gaps)}, mean gap {statistics.fmean(gaps):+.4f}"
    )


if __name__ == "__main__":
    main()
