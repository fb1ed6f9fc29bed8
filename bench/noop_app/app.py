"""The app bench/study_scale.py sweeps: it returns `x` and does nothing else, so what a
trial costs is the sweep's own bookkeeping and Hydra's job set-up."""

import hydra
from omegaconf import DictConfig


@hydra.main(config_path="conf", config_name="config", version_base=None)
def main(cfg: DictConfig) -> float:
    return float(cfg.x)


if __name__ == "__main__":
    main()
