"""A plain Hydra app that sweeps with hpsweep: nothing of train.py, three lines of
hpsweep. Its toy objective is a noisy quadratic in `x` that improves with every step,
reported like a validation loss per epoch, so the pruner can stop hopeless trials.

    python app.py -m hydra/sweeper=hyperband 'x=interval(-2,2)' hydra.sweeper.n_trials=12
    hpsweep report multirun/<date>/<time>
"""

import math
import random

import hydra
from omegaconf import DictConfig

from hpsweep import SweepTrial


@hydra.main(config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    rng = random.Random(cfg.seed)
    trial = SweepTrial.current()  # None unless an hpsweep sweeper launched this job
    loss = math.inf
    for step in range(1, cfg.steps + 1):
        # Lowest at x = 0.5; the 1/step term shrinks as the "model" trains.
        loss = (cfg.x - 0.5) ** 2 + 1 / step + rng.gauss(0, cfg.noise)
        if trial is not None:
            trial.report(loss, step)
            if trial.should_prune():
                break  # recorded as pruned, at this step
    if trial is not None:
        trial.record("distance", abs(cfg.x - 0.5))  # an extra results.csv column
    return loss


if __name__ == "__main__":
    main()
