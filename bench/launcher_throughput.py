"""Benchmark: joblib workers against one, and the process launcher's cost per trial.

1. The same 8 trials (digits, about 2 s each) through `python train.py -m` with Hydra's
   joblib launcher and 1 worker, then 2 workers (and 2 trials per batch): throughput
   ratio (target >= 1.8x on 2 cores).
2. 16 one-epoch trials with the in-process basic launcher against joblib with one
   worker: the extra cost per trial of starting work in another process.

    python bench/launcher_throughput.py [--trials 8] [--epochs 60]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.8


def sweep_seconds(work: Path, name: str, trials: int, epochs: int, launcher: list[str]) -> float:
    lrs = ",".join(f"{0.001 * (i + 1):g}" for i in range(trials))
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "train.py"),
            "-m",
            f"optimizer.lr={lrs}",
            f"trainer.epochs={epochs}",
            "~callbacks.early_stopping",
            f"hydra.sweep.dir={work / name}",
            *launcher,
        ],
        cwd=work,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def joblib(workers: int) -> list[str]:
    return [
        "hydra/launcher=joblib",
        f"hydra.launcher.n_jobs={workers}",
        f"hydra.sweeper.n_jobs={workers}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one = sweep_seconds(work, "one", args.trials, args.epochs, joblib(1))
        two = sweep_seconds(work, "two", args.trials, args.epochs, joblib(2))
        basic = sweep_seconds(work, "basic", 16, 1, [])
        process = sweep_seconds(work, "process", 16, 1, joblib(1))

    speedup = one / two
    print(f"{args.trials} trials of {args.epochs} digits epochs, joblib launcher:")
    print(f"  1 worker : {one:6.1f} s")
    print(
        f"  2 workers: {two:6.1f} s   throughput {speedup:.2f}x "
        f"(target >= {TARGET}x: {'met' if speedup >= TARGET else 'NOT met'})"
    )
    print("16 one-epoch trials:")
    print(f"  basic launcher (in process): {basic:6.1f} s")
    print(
        f"  joblib, 1 worker           : {process:6.1f} s   "
        f"{1000 * (process - basic) / 16:+.0f} ms per trial"
    )


if __name__ == "__main__":
    main()
