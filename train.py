"""Train one model; with -m, a sweep of them. See README.md and conf/train.yaml.

python train.py                                   # defaults: Adam, lr 1e-3, batch 64
python train.py optimizer=sgd model=cnn regularization=dropout
python train.py -m optimizer.lr='interval(1e-4,1e-1)'
"""

import json
import logging
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from hpsweep.hparams import run_hparams
from hpsweep.objective import objective_value
from hpsweep.resolvers import register_resolvers
from hpsweep.training import train
from hpsweep.trusted_targets import TRUSTED_TARGETS

log = logging.getLogger(__name__)
register_resolvers()


@hydra.main(config_path="conf", config_name="train", execution_whitelist=TRUSTED_TARGETS)
def main(cfg: DictConfig) -> float:
    """One run: train, write metrics.json into the run's folder, return the objective."""
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    hparams = run_hparams(cfg, hydra_cfg.runtime.choices, hydra_cfg.overrides.task)
    try:
        metrics = train(cfg, output_dir, hparams)
    except Exception:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            # The sweep records the trial as failed and goes on; the traceback goes into
            # the trial's own log, where its curves and config are.
            log.exception("trial failed")
        raise
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return objective_value(cfg.objective, metrics)


if __name__ == "__main__":
    main()
