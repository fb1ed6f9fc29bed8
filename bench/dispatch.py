"""Benchmark: asynchronous dispatch against batch-synchronous, busy fraction of workers.

A Hyperband sweep (1 to 27 epochs, reduction factor 3) of 60 trials over the sleeping
app in bench/dispatch_app/ on Hydra's joblib launcher, with 4 and with 8 workers, once
with hpsweep's asynchronous dispatch (a job starts the moment any ends) and once
batch-synchronous (`hydra.sweeper.dispatch=batch`: n_jobs at a time, as Hydra's own
sweepers launch). Trial lengths differ up to 27-fold, which is what makes a batch
barrier expensive.

Busy fraction = sum of trial durations / (workers x wall time from the first trial's
start to the last one's end), from results.csv's started/finished timestamps. Target:
>= 0.90 asynchronous. Each line also prints the bound no dispatcher can pass: the same
trials in the same order, each started the instant a worker is free (the sweep's tail,
when fewer trials remain than workers, is idle time that no dispatch removes).

    python bench/dispatch.py [--trials 60] [--workers 4 8]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

APP = Path(__file__).resolve().parent / "dispatch_app" / "app.py"


def trial_spans(results: Path) -> list[tuple[float, float]]:
    """(started, finished) of every trial, in POSIX seconds, in the order they started."""
    with results.open(newline="") as file:
        rows = list(csv.DictReader(file))
    stamps = [(r["started"], r["finished"]) for r in rows]
    return sorted(
        (datetime.fromisoformat(a).timestamp(), datetime.fromisoformat(b).timestamp())
        for a, b in stamps
    )


def busy_fraction(spans: list[tuple[float, float]], workers: int) -> float:
    busy = sum(end - start for start, end in spans)
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return busy / (workers * wall)


def free_dispatch_bound(spans: list[tuple[float, float]], workers: int) -> float:
    """The busy fraction of the same trials, in the same order, had starting a trial
    cost nothing: each starts the instant a worker is free. What is left below 1 is the
    sweep's tail, when fewer trials remain than workers; no dispatcher can do better."""
    free_at = [0.0] * workers
    for start, end in spans:
        slot = free_at.index(min(free_at))
        free_at[slot] += end - start
    busy = sum(end - start for start, end in spans)
    return busy / (workers * max(free_at))


def run(dispatch: str, workers: int, trials: int, cwd: Path) -> list[tuple[float, float]]:
    sweep = cwd / f"{dispatch}-{workers}"
    subprocess.run(
        [
            sys.executable,
            str(APP),
            "-m",
            "hydra/sweeper=hyperband",
            "hydra/sweeper/sampler=random",
            "x=interval(0.0,1.0)",
            f"hydra.sweeper.n_trials={trials}",
            f"hydra.sweeper.n_jobs={workers}",
            f"hydra.sweeper.dispatch={dispatch}",
            "hydra.sweeper.report=false",
            "hydra/launcher=joblib",
            f"hydra.launcher.n_jobs={workers}",
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return trial_spans(sweep / "results.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 8])
    args = parser.parse_args()
    fractions: dict[str, list[float]] = {"async": [], "batch": []}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            for dispatch in ("async", "batch"):
                spans = run(dispatch, workers, args.trials, Path(tmp))
                fraction = busy_fraction(spans, workers)
                fractions[dispatch].append(fraction)
                print(
                    f"{workers} workers, {dispatch:5}: busy fraction {fraction:.2f} (the same "
                    f"trials with dispatch at no cost: {free_dispatch_bound(spans, workers):.2f})",
                    flush=True,
                )
    shown = {d: ", ".join(f"{f:.2f}" for f in v) for d, v in fractions.items()}
    print(f"busy fraction: async {shown['async']}, batch {shown['batch']}")


if __name__ == "__main__":
    main()
