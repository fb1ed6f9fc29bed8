"""Benchmark: joblib workers against one, and the process launcher's cost per trial.

1. The same 16 trials (digits on the CPU, 2 s or more each) through `python train.py -m`
   with Hydra's joblib launcher and 1 worker, then 2 workers (and 2 trials per batch):
   throughput ratio (target >= 1.8x), over the whole command and over the trials alone
   (from the first job's start to the last job's end, read from the files each job
   writes: the sweep's start-up and its end-of-sweep report are no launcher's work).
   By default each worker takes its share of the cores (hpsweep.training.cpu_threads),
   so a lone worker's trial runs on all of them; `--threads N` gives every trial N
   threads whatever the worker count, which measures the launcher's own scaling.
2. 16 one-epoch trials with the in-process basic launcher against joblib with one
   worker: the extra cost per trial of starting work in another process.

    python bench/launcher_throughput.py [--trials 16] [--epochs 120] [--threads N]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.8


def sweep_seconds(
    work: Path, name: str, trials: int, epochs: int, launcher: list[str], threads: int | None
) -> float:
    lrs = ",".join(f"{0.001 * (i + 1):g}" for i in range(trials))
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "train.py"),
            "-m",
            f"optimizer.lr={lrs}",
            f"trainer.epochs={epochs}",
            "trainer.device=cpu",
            f"trainer.num_threads={threads or 'null'}",
            "~callbacks.early_stopping",
            f"hydra.sweep.dir={work / name}",
            *launcher,
        ],
        cwd=work,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def trials_per_second(sweep_dir: Path) -> float:
    """Trials per second from the first job's start (Hydra writes its .hydra/config.yaml)
    to the last job's end (train.py writes metrics.json)."""
    jobs = [path.parent.parent for path in sweep_dir.glob("*/.hydra/config.yaml")]
    first_start = min((job / ".hydra" / "config.yaml").stat().st_mtime for job in jobs)
    last_end = max((job / "metrics.json").stat().st_mtime for job in jobs)
    return len(jobs) / (last_end - first_start)


def trial_seconds(sweep_dir: Path) -> float:
    """Median seconds a trial trained, from the sweep's results.csv."""
    with (sweep_dir / "results.csv").open(newline="") as file:
        return statistics.median(float(row["seconds"]) for row in csv.DictReader(file))


def joblib(workers: int) -> list[str]:
    return [
        "hydra/launcher=joblib",
        f"hydra.launcher.n_jobs={workers}",
        f"hydra.sweeper.n_jobs={workers}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=120)
    parser.add_argument("--threads", type=int, default=None, help="torch threads a trial")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one = sweep_seconds(work, "one", args.trials, args.epochs, joblib(1), args.threads)
        two = sweep_seconds(work, "two", args.trials, args.epochs, joblib(2), args.threads)
        seconds_one, seconds_two = trial_seconds(work / "one"), trial_seconds(work / "two")
        rate_one, rate_two = trials_per_second(work / "one"), trials_per_second(work / "two")
        basic = sweep_seconds(work, "basic", 16, 1, [], args.threads)
        process = sweep_seconds(work, "process", 16, 1, joblib(1), args.threads)

    speedup = rate_two / rate_one
    print(
        f"{args.trials} trials of {args.epochs} digits epochs, joblib launcher, "
        f"{os.cpu_count()} cores, torch threads a trial: "
        f"{args.threads or 'its share of the cores'}:"
    )
    print(
        f"  1 worker : {one:6.1f} s, {rate_one:.3f} trials/s while trials ran "
        f"(a trial trains {seconds_one:.1f} s)"
    )
    print(
        f"  2 workers: {two:6.1f} s, {rate_two:.3f} trials/s while trials ran "
        f"(a trial trains {seconds_two:.1f} s)"
    )
    print(f"  whole command: {one / two:.2f}x faster with 2 workers")
    print(
        f"  throughput while trials ran: {speedup:.2f}x "
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
