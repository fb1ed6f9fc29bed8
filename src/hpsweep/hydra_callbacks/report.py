"""The report, written automatically when a sweep of Hydra's basic sweeper or the stock
Optuna sweeper ends. The hpsweep sweeper writes it itself (hydra.sweeper.report)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hpsweep.hydra_callbacks.results import records_itself
from hpsweep.report.loading import NotASweepError, load_sweep
from hpsweep.report.plots import write_plots
from hpsweep.sweep.spec import is_dry_run

log = logging.getLogger(__name__)


class WriteReport(Callback):
    """Writes the report's PNGs into the sweep folder at multirun end.

    Switch it off with `~hydra.callbacks.report` (hpsweep's sweepers:
    `hydra.sweeper.report=false`); `hpsweep report <dir>` writes the same files any time.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if is_dry_run(config) or records_itself(config):
            return
        try:
            sweep = load_sweep(Path(config.hydra.sweep.dir))
        except NotASweepError:
            return
        paths = write_plots(sweep)
        if paths:
            log.info("report: %s", ", ".join(p.name for p in paths))
