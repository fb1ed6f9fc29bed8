"""The plain Hydra app of app.py with two objectives: its loss (lowest at x = 0.5) and
a speed (highest at x = -1), so no x is best at both and the sweep finds a front.

    python two_objectives.py -m hydra/sweeper=tpe 'x=interval(-2,2)' \\
        'hydra.sweeper.direction=[minimize,maximize]' hydra.sweeper.n_trials=12

It reports both every step (a list: what MO-ASHA prunes on with hydra/sweeper=sha or
hyperband) and returns both, in the order hydra.sweeper.direction lists them.
"""

import math
import random

import hydra
from omegaconf import DictConfig

from hpsweep import SweepTrial


@hydra.main(config_path="conf", config_name="config")
def main(cfg: DictConfig) -> tuple[float, float]:
    rng = random.Random(cfg.seed)
    trial = SweepTrial.current()  # None unless an hpsweep sweeper launched this job
    loss, speed = math.inf, 0.0
    for step in range(1, cfg.steps + 1):
        loss = (cfg.x - 0.5) ** 2 + 1 / step + rng.gauss(0, cfg.noise)
        speed = 1 / (1 + abs(cfg.x + 1)) - 0.1 / step
        if trial is not None:
            trial.report([loss, speed], step)
            if trial.should_prune():
                break  # recorded as pruned, at this step
    return loss, speed


if __name__ == "__main__":
    main()
