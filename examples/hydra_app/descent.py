"""A plain Hydra app that Population Based Training can tune: noisy gradient descent
on (w - 0.5)^2 from w = x, at learning rate `lr`. Its state is w, saved every step
through SweepTrial, so a PBT member continues from its own w, or from another
member's when it exploits one (hydra/sweeper=pbt).

    python descent.py -m hydra/sweeper=pbt 'lr=tag(log,interval(1e-3,1))' \
        hydra.sweeper.pbt.epochs=27 hydra.sweeper.pbt.population=4
"""

import random

import hydra
from omegaconf import DictConfig

from hpsweep import SweepTrial


@hydra.main(config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    trial = SweepTrial.current()  # None unless an hpsweep sweeper launched this job
    saved = trial.load_state() if trial is not None else None
    w, done = (cfg.x, 0) if saved is None else (saved.state["w"], saved.step)
    loss = (w - 0.5) ** 2
    for step in range(done + 1, cfg.steps + 1):
        rng = random.Random(cfg.seed * 100_003 + step)  # the same noise at each step
        w -= cfg.lr * (2 * (w - 0.5) + rng.gauss(0, 10 * cfg.noise))
        loss = (w - 0.5) ** 2
        if trial is not None:
            trial.save_state({"w": w}, step=step)  # before asking: a segment may end here
            trial.report(loss, step)
            if trial.should_prune():
                break
    return loss


if __name__ == "__main__":
    main()
