"""Benchmark: does a trial cost the sweep the same at trial 10,000 as at trial 100?

Sweeps of a no-op Hydra app (bench/noop_app: returns `x`, does nothing else), on the
default journal storage, in three arms: random search in process (Hydra's basic
launcher) for `--trials` trials, the same on joblib with 2 workers, and TPE (the `tpe`
preset's sampler) in process for `--tpe-trials`. Beside each, the same number of
ask/tell rounds of Optuna alone with the same sampler on the same kind of storage, in
one process (TPE's own cost grows with the trials it models; random search's should
not). A trial's cost is the gap between consecutive trials' starts as the study records
them (Optuna alone: its own clock), averaged over the WINDOW trials from each
checkpoint (the last WINDOW for the last): 500 trials, ~15 s, so that a second of
machine noise moves it by a few percent, not a third. Also the in-process sweep's peak
RSS at 1,000 trials and at `--trials`.

Prints a table per arm, then exactly (the in-process random arm):

    per-trial sweep cost: trial 100 <a> ms, trial 10000 <b> ms (ratio <b/a>); optuna alone <c> ms

Targets (issue "Flat cost as the study grows"): ratio <= 1.10, b - c <= 50 ms.

    python bench/study_scale.py [--trials 10000] [--tpe-trials 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "bench" / "noop_app" / "app.py"
WINDOW = 500


# The overrides of each arm: the sampler preset, and joblib with 2 workers.
RANDOM = ("hydra/sweeper=random",)
TPE = ("hydra/sweeper=tpe",)
JOBLIB = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2")


def sweep(trials: int, sweep_dir: Path, overrides: tuple[str, ...]) -> tuple[list[float], float]:
    """(each trial's start in seconds, the sweep process's peak RSS in MB)."""
    from hpsweep import load_recorded_study

    command = [
        sys.executable,
        str(APP),
        "-m",
        *overrides,
        "x=interval(0,1)",
        f"hydra.sweeper.n_trials={trials}",
        "hydra.sweeper.report=false",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    began = time.monotonic()
    with open(os.devnull, "w") as quiet:
        process = subprocess.Popen(command, stdout=quiet, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the sweep failed (status {status}): {' '.join(command)}")
    print(
        f"  {' '.join(overrides)}: {trials} trials in {time.monotonic() - began:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    study = load_recorded_study(sweep_dir)
    starts = sorted(t.datetime_start.timestamp() for t in study.trials if t.datetime_start)
    return starts, usage.ru_maxrss / 1024  # Linux reports kB


def optuna_alone(trials: int, work: Path, sampler: Any) -> list[float]:
    """Each ask/tell round's start, on a journal file as the sweep's default storage."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    journal = work / f"alone-{type(sampler).__name__}.log"
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.create_study(storage=storage, sampler=sampler)
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


def checkpoints(trials: int) -> list[int]:
    return [c for c in (100, 1_000, 5_000, 10_000) if c < trials - WINDOW] + [trials]


def print_arm(title: str, starts: list[float], alone: list[float]) -> None:
    print(title)
    print(f"{'trial':>7} {'hpsweep ms':>11} {'optuna alone ms':>16}")
    for checkpoint in checkpoints(len(starts)):
        print(
            f"{checkpoint:>7} {cost_at(starts, checkpoint):>11.1f}"
            f" {cost_at(alone, checkpoint):>16.2f}"
        )


def main() -> None:
    import optuna

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--tpe-trials", type=int, default=2_000)
    args = parser.parse_args()
    # the tpe preset's sampler (hydra_plugins/hpsweep_sweeper/config.py), seeded alike;
    # `group` is experimental to Optuna, and the sweep keeps that warning quiet too
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    tpe = optuna.samplers.TPESampler(seed=0, multivariate=True, group=True, constant_liar=True)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("no-op app, journal storage", file=sys.stderr, flush=True)
        starts, peak = sweep(args.trials, work / "random", RANDOM)
        _, peak_1000 = sweep(1_000, work / "random-1000", RANDOM)
        on_joblib, _ = sweep(args.trials, work / "joblib", RANDOM + JOBLIB)
        with_tpe, _ = sweep(args.tpe_trials, work / "tpe", TPE)
        alone = optuna_alone(args.trials, work, optuna.samplers.RandomSampler(seed=0))
        tpe_alone = optuna_alone(args.tpe_trials, work, tpe)

    print_arm(f"random search, in process, {args.trials} trials", starts, alone)
    print_arm(f"random search, joblib with 2 workers, {args.trials} trials", on_joblib, alone)
    print_arm(f"TPE, in process, {args.tpe_trials} trials", with_tpe, tpe_alone)
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
