"""What every Hydra app pays before it trains: train_overhead.py's floor.

A `@hydra.main` app on train.py's own conf/ that imports torch (as train.py and the
hand-written loop do) and returns: Hydra's import, composition of the config, the
run folder's `.hydra/` files and logging set-up, and nothing of hpsweep's training.
It returns the learning rate, so a sweep over it (sweeper_overhead.py) measures what a
job costs the sweep when it trains nothing.
"""

import hydra
from omegaconf import DictConfig

from hpsweep.training.resolvers import register_resolvers
from hpsweep.training.trusted_targets import TRUSTED_TARGETS

register_resolvers()  # conf/ uses hpsweep's resolvers, as train.py does


@hydra.main(config_path="../conf", config_name="train", execution_whitelist=TRUSTED_TARGETS)
def main(cfg: DictConfig) -> float:
    import torch  # noqa: F401  (both contenders import it)

    return float(cfg.optimizer.lr)


if __name__ == "__main__":
    main()
