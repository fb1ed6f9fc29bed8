"""A Hydra app wrapping one of the bench's problems, so that hpsweep's presets search it
through the real sweeper, exactly as they search train.py: one job per trial, a report
per step (epoch), pruning through SweepTrial.

    PYTHONPATH=. python bench/quality/app/app.py -m hydra/sweeper=hyperband problem=mfh6 \\
        'x.X_0=interval(0.0,1.0)' ...

bench/quality/hpsweep_methods.py runs it and reads the study back.
"""

from __future__ import annotations

import functools

import hydra
from omegaconf import DictConfig

from bench.quality.problems import Problem, make_problem
from hpsweep import SweepTrial


@functools.cache
def problem_of(name: str, seed: int) -> Problem:
    # Jobs of the basic launcher run in the sweeper's process: build the problem once.
    return make_problem(name, seed)


@hydra.main(config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    problem = problem_of(cfg.problem, cfg.problem_seed)
    config = {p.name: float(cfg.x[p.name]) for p in problem.params}
    trial = SweepTrial.current()
    value = float("nan")
    for step in range(1, cfg.trainer.epochs + 1):
        value = problem.evaluate(config, step)
        if trial is not None:
            trial.report(value, step)
            if trial.should_prune():
                break
    return value


if __name__ == "__main__":
    main()
