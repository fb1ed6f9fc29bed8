"""A Hydra callback that declares a sweep's HParams columns before its first trial.

The columns and their domains come from the swept parameters; fixing them up front
gives every trial the same columns, running, early-stopped or diverged alike. They are
saved into the sweep folder as a plain file that each trial copies into its own run
(hpsweep.tensorboard.experiment): no run of their own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra import compose
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hpsweep.sweep.spec import SweepSpec, is_dry_run

if TYPE_CHECKING:
    from hpsweep.tensorboard.hparams import HParamValue

log = logging.getLogger(__name__)


class WriteHParamsExperiment(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if is_dry_run(config):
            return
        # Imported here, not with the module: Hydra builds every callback before the
        # bad-input check runs, and that check should not wait for TensorBoard.
        from hpsweep.tensorboard.experiment import experiment_summary, save_experiment
        from hpsweep.tensorboard.hparams import group_leaves, sweep_domains

        spec = SweepSpec.of(config)
        fixed = list(spec.fixed)
        config_name = config.hydra.job.config_name

        def option_leaves(group: str, option: str) -> dict[str, HParamValue]:
            composed = compose(config_name, overrides=[*fixed, f"{group}={option}"])
            return group_leaves(group, composed[group])

        # Only what the sweep varies: constant columns would push the swept ones out of
        # view. Each run still records every group's choice in its session.
        domains = sweep_domains(spec, option_leaves)
        objective = config.get("objective", {}).get("metric", "val/loss")
        save_experiment(Path(config.hydra.sweep.dir), experiment_summary(domains, objective))
        log.info("TensorBoard: tensorboard --logdir %s", config.hydra.sweep.dir)
