"""The app bench/dispatch.py sweeps: epochs that sleep instead of train, so that a
2-core machine can host 8 workers honestly. Its loss falls with the epochs at a rate
set by `x`, so Hyperband's rungs prune the slow learners as they would real ones."""

import math
import time

import hydra
from omegaconf import DictConfig

from hpsweep import SweepTrial


@hydra.main(config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    trial = SweepTrial.current()
    loss = math.inf
    for epoch in range(1, cfg.trainer.epochs + 1):
        time.sleep(cfg.epoch_seconds)
        loss = (cfg.x - 0.3) ** 2 + 1.0 / (1 + epoch * (0.2 + cfg.x))
        if trial is not None:
            trial.report(loss, step=epoch)
            if trial.should_prune():
                break
    return loss


if __name__ == "__main__":
    main()
