"""Benchmark: the hypervolume of the front that MO-ASHA finds, at equal epochs.

train.py on digits with two objectives, `objective.metric=[val/loss,model/params]`
(accuracy against size), over the learning rate (log, 1e-4 to 1e-1), the MLP's width
(8 to 512) and depth (1 to 3), `--epochs` epochs a trial, early stopping off so that
every arm pays whole trials. Three arms per sweep seed, each a real
`python train.py -m ...` in a subprocess:

    mo-asha      hydra/sweeper=sha: TPE with MO-ASHA's rungs (1, 3, 9 epochs)
    no pruning   hydra/sweeper=tpe: the same TPE, every trial to its last epoch
    random       hydra/sweeper=random, every trial to its last epoch

The budget is what no pruning spends, `--trials` x `--epochs` epochs; MO-ASHA runs six
times the trials, past that budget, and is read at it: trials in the order they ended,
while the epochs they trained add up to no more than it. Of those, the finished ones (pruned trials
never trained to the end) make the front; its hypervolume is taken in (val/loss,
log10 params) against the reference point (2.5, 6): chance-level loss and a million
parameters, beyond every model of the space. Larger is better. Prints each seed's
three figures, then the means over seeds; the last line exactly
`hypervolume at equal epochs: mo-asha <a>, no pruning <b>, random <c>`.

    python bench/pareto.py [--seeds 0 1 2 3 4] [--epochs 9] [--trials 16]
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from hpsweep.sweep.results import ended_within, pareto_flags

REPO = Path(__file__).resolve().parents[1]
SPACE = [
    "optimizer.lr=tag(log,interval(1e-4,1e-1))",
    "model.width=choice(8,16,32,64,128,256,512)",
    "model.depth=choice(1,2,3)",
]
COMMON = [
    "objective.metric=[val/loss,model/params]",
    "~callbacks.early_stopping",
    "hydra.sweeper.report=false",
    "trainer.num_threads=1",
]
ARMS = {"mo-asha": "sha", "no pruning": "tpe", "random": "random"}
# (val/loss, log10 params) no front point reaches: chance-level loss on ten classes is
# 2.3; the largest model of the space (depth 3, width 512) has 563,722 parameters.
REFERENCE = (2.5, 6.0)


def hypervolume(front: list[tuple[float, float]], reference: tuple[float, float]) -> float:
    """The area two minimized objectives' points dominate up to `reference`."""
    area, ceiling = 0.0, reference[1]
    for first, second in sorted(p for p in front if p[0] < reference[0] and p[1] < reference[1]):
        if second < ceiling:
            area += (reference[0] - first) * (ceiling - second)
            ceiling = second
    return area


def front_of(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point dominates (both minimized): results.csv's own rule."""
    flags = pareto_flags([list(p) for p in points], ["minimize", "minimize"])
    return [p for p, on_front in zip(points, flags, strict=True) if on_front]


def sweep(arm: str, seed: int, n_trials: int, epochs: int, work: Path) -> list[dict[str, str]]:
    sweep_dir = work / f"{arm.replace(' ', '-')}-{seed}"
    command = [
        sys.executable,
        str(REPO / "train.py"),
        "-m",
        f"hydra/sweeper={ARMS[arm]}",
        *SPACE,
        *COMMON,
        f"trainer.epochs={epochs}",
        f"hydra.sweeper.seed={seed}",
        f"hydra.sweeper.n_trials={n_trials}",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    with (sweep_dir / "results.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def at_budget(rows: list[dict[str, str]], budget: int) -> tuple[float, int]:
    """(the hypervolume of the finished trials among those that ended within `budget`
    epochs, in the order they ended; the epochs those trials trained)."""
    within, spent = ended_within(rows, budget)
    points = [
        (float(row["objective_1"]), math.log10(float(row["objective_2"])))
        for row in within
        if row["status"] in ("complete", "early_stopped")
    ]
    return hypervolume(front_of(points), REFERENCE), spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--trials", type=int, default=16, help="no pruning's and random's")
    args = parser.parse_args()
    budget = args.trials * args.epochs
    figures: dict[str, list[float]] = {arm: [] for arm in ARMS}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            line = []
            for arm in ARMS:
                # MO-ASHA runs until past the budget (most trials stop at epoch 1 or
                # 3) and is read at it.
                n_trials = args.trials * (6 if arm == "mo-asha" else 1)
                rows = sweep(arm, seed, n_trials, args.epochs, Path(tmp))
                area, counted = at_budget(rows, budget)
                figures[arm].append(area)
                line.append(f"{arm} {area:.3f} ({len(rows)} trials, {counted} epochs counted)")
            print(f"seed {seed}: " + "; ".join(line), flush=True)
    means = {arm: statistics.fmean(values) for arm, values in figures.items()}
    print(f"budget: {budget} epochs; reference point (val/loss, log10 params) {REFERENCE}")
    print(
        f"hypervolume at equal epochs: mo-asha {means['mo-asha']:.3f}, "
        f"no pruning {means['no pruning']:.3f}, random {means['random']:.3f}"
    )


if __name__ == "__main__":
    main()
