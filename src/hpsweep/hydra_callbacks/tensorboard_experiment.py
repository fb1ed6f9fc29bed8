"""A Hydra callback that declares a sweep's HParams experiment before its first trial.

TensorBoard's HParams dashboard takes its columns from one experiment summary in the
log directory. Writing it into the sweep folder at multirun start, from the swept
parameters, fixes the columns and their domains for every trial, including those
that are still running, early-stopped or diverged.
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

# Final and best values of these become the dashboard's metric columns.
METRICS = ("val/loss", "val/acc", "train/loss", "epochs")


class WriteHParamsExperiment(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if is_dry_run(config):
            return
        # Imported here, not with the module: Hydra builds every callback before the
        # bad-input check runs, and that check should not wait for TensorBoard.
        from tensorboard.plugins.hparams import summary_v2 as hp

        from hpsweep.tensorboard.events import EventWriter
        from hpsweep.tensorboard.hparams import group_leaves, sweep_domains

        spec = SweepSpec.of(config)
        fixed = list(spec.fixed)
        config_name = config.hydra.job.config_name

        def option_leaves(group: str, option: str) -> dict[str, HParamValue]:
            composed = compose(config_name, overrides=[*fixed, f"{group}={option}"])
            return group_leaves(group, composed[group])

        domains = sweep_domains(spec, option_leaves)
        # Only what the sweep varies: TensorBoard shows the first hparams (by name) as
        # columns, and constant ones would push the swept ones out of view. Each run
        # still records every group's choice in its session.
        hparams = [hp.HParam(name, domain) for name, domain in domains.items()]
        monitor = config.get("objective", {}).get("metric", "val/loss")
        metric_tags = dict.fromkeys([monitor, f"best/{monitor}", *METRICS])
        metrics = [hp.Metric(tag, display_name=tag) for tag in metric_tags]

        writer = EventWriter(Path(config.hydra.sweep.dir))
        writer.write(hp.hparams_config_pb(hparams=hparams, metrics=metrics))
        writer.close()
        log.info("TensorBoard: tensorboard --logdir %s", config.hydra.sweep.dir)
