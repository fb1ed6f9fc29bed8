"""hpsweep's presets through the real sweeper, and the same algorithms in Optuna alone.

A preset runs as `python bench/quality/app/app.py -m hydra/sweeper=<preset> ...`, a
subprocess with the sweeper, its journal file and one job per trial, as a user runs it.
The sweeper's budget is a trial count, the bench's is steps: the sweep starts with
more trials than the budget buys (5 per full evaluation under pruning: measured, most
runs spend 2-3x the budget) and is cut at the budget when read back. Only if it spent
less does the bench resume the same sweep with more trials; a resumed sweep moves its
sampler's seed on, so it would no longer be the run a user gets from one command.
The study's trials, in order, are then charged to the ledger: each
trial paid for the steps it reported (one worker, so the order is the order they ran).

Optuna alone is the same search in one process: study.optimize over the problem,
reporting every step, as an Optuna user writes it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna

from bench.quality.ledger import BudgetSpent, Ledger
from bench.quality.problems import Problem
from hpsweep import load_recorded_study
from hpsweep.samplers import MultiFidelityTPESampler

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().parent / "app" / "app.py"


def sweep(preset: str, problem: Problem, seed: int, sweep_dir: Path, n_trials: int) -> None:
    command = [
        sys.executable,
        str(APP),
        "-m",
        # `-m` alone is Hydra's basic sweeper in an app of one's own; train.py's conf
        # picks auto, the default the README gives every app.
        f"hydra/sweeper={'auto' if preset == 'default' else preset}",
        f"problem={problem.name}",
        # The problem's own noise seed, as every other method sees it (not the method's).
        f"problem_seed={problem.seed}",
        *(f"x.{p.name}={p.interval()}" for p in problem.params),
        f"hydra.sweeper.seed={seed}",
        f"hydra.sweeper.n_trials={n_trials}",
        "hydra.sweeper.report=false",
        f"hydra.sweep.dir={sweep_dir}",
        "hydra/job_logging=disabled",
        "hydra/hydra_logging=disabled",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{preset} sweep failed:\n{done.stderr[-3000:]}")


def charge(study: optuna.Study, ledger: Ledger) -> None:
    """Every trial's reports, in the order they ran; a trial that reported nothing (no
    pruner: no reports) paid a full evaluation."""
    for trial in sorted(study.trials, key=lambda t: t.number):
        if trial.intermediate_values:
            for step, value in sorted(trial.intermediate_values.items()):
                ledger.record(trial.number, step, value)
        elif trial.value is not None:
            ledger.record(trial.number, ledger.problem.max_step, trial.value)


def run_preset(preset: str) -> Callable[[Problem, int, Ledger], None]:
    def run(problem: Problem, seed: int, ledger: Ledger) -> None:
        full = ledger.budget // problem.max_step
        n_trials = full if preset in ("default", "random", "tpe") else 5 * full
        with tempfile.TemporaryDirectory(prefix="quality-") as folder:
            sweep_dir = Path(folder) / "sweep"
            while True:
                sweep(preset, problem, seed, sweep_dir, n_trials)
                trial_ledger = Ledger(problem, ledger.budget)
                study = load_recorded_study(sweep_dir)
                charge(study, trial_ledger)
                if trial_ledger.exhausted:
                    break
                per_trial = trial_ledger.spent / len(study.trials)
                left = ledger.budget - trial_ledger.spent
                n_trials = len(study.trials) + math.ceil(1.2 * left / per_trial) + 1
            charge(study, ledger)

    return run


def optimize(
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    problem: Problem,
    ledger: Ledger,
) -> None:
    """study.optimize until the ledger's budget is spent."""

    space = problem.params

    def objective(trial: optuna.Trial) -> float:
        config = {p.name: trial.suggest_float(p.name, p.low, p.high, log=p.log) for p in space}
        value = math.nan
        try:
            for step in range(1, problem.max_step + 1):
                value = ledger.evaluate(trial.number, config, step)
                trial.report(value, step)
                if trial.should_prune():
                    raise optuna.TrialPruned
        except BudgetSpent:
            trial.study.stop()
            raise optuna.TrialPruned from None
        return value

    # The sweeper's default study name: Hyperband picks brackets from its hash.
    study = optuna.create_study(sampler=sampler, pruner=pruner, study_name="hpsweep")
    study.optimize(objective, n_trials=100 * ledger.budget)


def run_optuna(make_sampler: Callable[[int], optuna.samplers.BaseSampler]):
    """Optuna's HyperbandPruner (min 1, max `max_step`, eta 3) with `make_sampler(seed)`."""

    def run(problem: Problem, seed: int, ledger: Ledger) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = make_sampler(seed)
        pruner = optuna.pruners.HyperbandPruner(1, problem.max_step, 3)
        optimize(sampler, pruner, problem, ledger)

    return run


METHODS = {
    # hpsweep's presets, as `python app.py -m hydra/sweeper=<preset>` runs them.
    "hpsweep hyperband": run_preset("hyperband"),
    "hpsweep sha": run_preset("sha"),
    "hpsweep tpe (-m default)": run_preset("default"),
    "hpsweep random": run_preset("random"),
    # Optuna alone, its defaults (TPESampler(seed) is multivariate since Optuna 5).
    "optuna hyperband+TPE": run_optuna(lambda seed: optuna.samplers.TPESampler(seed=seed)),
    "optuna hyperband+MF-TPE": run_optuna(lambda seed: MultiFidelityTPESampler(seed=seed)),
}
