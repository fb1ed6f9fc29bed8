"""Benchmark: does a trial cost the sweep the same at trial 10,000 as at trial 100?

Random search over a no-op Hydra app (bench/noop_app: returns `x`, does nothing
else), in process (Hydra's basic launcher), on the default journal storage, for
`--trials` trials; the same number of ask/tell rounds of Optuna alone on the same kind
of storage, in one process. A trial's cost is the gap between consecutive trials'
starts as the study records them (Optuna alone: its own clock), averaged over the 100
trials from each checkpoint (the last 100 for the last). Also the sweep process's peak
RSS at 1,000 trials and at `--trials`.

Prints a table, then exactly:

    per-trial sweep cost: trial 100 <a> ms, trial 10000 <b> ms (ratio <b/a>); optuna alone <c> ms

Targets (issue "Flat cost as the study grows"): ratio <= 1.10, b - c <= 50 ms.

    python bench/study_scale.py [--trials 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "bench" / "noop_app" / "app.py"
WINDOW = 100


def sweep(trials: int, sweep_dir: Path) -> tuple[list[float], float]:
    """(each trial's start in seconds, the sweep process's peak RSS in MB)."""
    from hpsweep import load_recorded_study

    command = [
        sys.executable,
        str(APP),
        "-m",
        "hydra/sweeper=random",
        "x=interval(0,1)",
        f"hydra.sweeper.n_trials={trials}",
        "hydra.sweeper.report=false",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    with open(os.devnull, "w") as quiet:
        process = subprocess.Popen(command, stdout=quiet, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the sweep failed (status {status}): {' '.join(command)}")
    study = load_recorded_study(sweep_dir)
    starts = sorted(t.datetime_start.timestamp() for t in study.trials if t.datetime_start)
    return starts, usage.ru_maxrss / 1024  # Linux reports kB


def optuna_alone(trials: int, work: Path) -> list[float]:
    """Each ask/tell round's start, on a journal file as the sweep's default storage."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(work / "alone.log")))
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    distribution = optuna.distributions.FloatDistribution(0, 1)
    starts = []
    for _ in range(trials):
        starts.append(time.perf_counter())
        trial = study.ask({"x": distribution})
        study.tell(trial, trial.params["x"])
    return starts


def cost_at(starts: list[float], trial: int) -> float:
    """Mean ms between consecutive starts over the WINDOW trials from `trial` (the
    last WINDOW when fewer are left)."""
    first = min(trial, len(starts) - WINDOW - 1)
    return (starts[first + WINDOW] - starts[first]) / WINDOW * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    args = parser.parse_args()
    checkpoints = [c for c in (100, 1_000, 5_000, 10_000) if c < args.trials] + [args.trials]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"no-op app, random search, {args.trials} trials, in process", flush=True)
        starts, peak = sweep(args.trials, work / "sweep")
        _, peak_1000 = sweep(1_000, work / "sweep-1000")
        alone = optuna_alone(args.trials, work)

    print(f"{'trial':>7} {'hpsweep ms':>11} {'optuna alone ms':>16}")
    for checkpoint in checkpoints:
        print(
            f"{checkpoint:>7} {cost_at(starts, checkpoint):>11.1f}"
            f" {cost_at(alone, checkpoint):>16.2f}"
        )
    print(
        f"peak RSS of the sweep process: {peak_1000:.0f} MB at 1000 trials, "
        f"{peak:.0f} MB at {args.trials} ({peak / peak_1000:.2f}x)"
    )
    first, last = cost_at(starts, 100), cost_at(starts, args.trials)
    print(
        f"per-trial sweep cost: trial 100 {first:.1f} ms, trial {args.trials} {last:.1f} ms"
        f" (ratio {last / first:.2f}); optuna alone {cost_at(alone, args.trials):.1f} ms"
    )


if __name__ == "__main__":
    main()
