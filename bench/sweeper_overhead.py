"""Benchmark: the hpsweep sweeper's own cost per trial.

The same 40 trials (random search over the learning rate, seed 0, digits, about 1 s
each) run three times, each in a fresh process: through `python train.py -m` with the
hpsweep sweeper (Hydra multirun, journal storage, results.csv, TensorBoard,
checkpoints), the same with Hydra's stock Optuna sweeper, and through a hand-written
Optuna loop that calls the same `train` function in one process. Prints the wall
times and their ratios to the hand-written loop (target for hpsweep <= 1.05x).

    python bench/sweeper_overhead.py [--trials 40] [--epochs 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.05

HAND_WRITTEN = """
import sys, tempfile
from pathlib import Path
import optuna
from hydra import compose, initialize_config_dir
from hpsweep.training import train

trials, epochs = int(sys.argv[1]), int(sys.argv[2])
with initialize_config_dir(config_dir=sys.argv[3]):
    base = compose("train", overrides=[f"trainer.epochs={epochs}"])
out = Path(tempfile.mkdtemp())

def objective(trial):
    cfg = base.copy()
    cfg.optimizer.lr = trial.suggest_float("optimizer.lr", 1e-4, 1e-1, log=True)
    return train(cfg, out / str(trial.number))["val/loss"]

optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
study.optimize(objective, n_trials=trials)
print(study.best_value)
"""


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()

    common = [
        "optimizer.lr=tag(log,interval(1e-4,1e-1))",
        f"hydra.sweeper.n_trials={args.trials}",
        f"trainer.epochs={args.epochs}",
    ]
    contenders = {
        "python train.py -m, hpsweep sweeper": ["hydra/sweeper=random"],
        "python train.py -m, stock optuna sweeper": [
            "hydra/sweeper=optuna",
            "hydra/sweeper/sampler=random",
            "hydra.sweeper.sampler.seed=0",
            "hydra.sweeper.n_jobs=1",
        ],
    }
    walls: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "hand_written.py"
        script.write_text(HAND_WRITTEN)
        loop = timed(
            [sys.executable, str(script), str(args.trials), str(args.epochs), str(ROOT / "conf")],
            cwd=work,
        )
        for index, (name, sweeper) in enumerate(contenders.items()):
            walls[name] = timed(
                [
                    sys.executable,
                    str(ROOT / "train.py"),
                    "-m",
                    *sweeper,
                    *common,
                    f"hydra.sweep.dir={work / f'sweep{index}'}",
                ],
                cwd=work,
            )
    print(f"{args.trials} trials of {args.epochs} digits epochs, random search over lr, seed 0")
    print(f"{'hand-written Optuna loop, in process':42} {loop:7.1f} s  1.000x")
    for name, wall in walls.items():
        extra = 1000 * (wall - loop) / args.trials
        print(f"{name:42} {wall:7.1f} s  {wall / loop:.3f}x  ({extra:+.0f} ms per trial)")
    ratio = walls["python train.py -m, hpsweep sweeper"] / loop
    print(f"target hpsweep <= {TARGET:.2f}x: {'met' if ratio <= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
