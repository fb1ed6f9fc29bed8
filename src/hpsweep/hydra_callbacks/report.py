"""The report, written automatically when a sweep ends (every sweeper)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hpsweep.sweep.spec import is_dry_run

log = logging.getLogger(__name__)


class WriteReport(Callback):
    """Writes the report's PNGs into the sweep folder at multirun end.

    Switch it off with `~hydra.callbacks.report`; `hpsweep report <dir>` writes the
    same files any time.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if is_dry_run(config):
            return
        # Imported here, not with the module: Hydra builds every callback before the
        # bad-input check runs, and that check should not wait for Optuna and plotting.
        from hpsweep.report.loading import NotASweepError, load_sweep
        from hpsweep.report.plots import write_plots

        try:
            sweep = load_sweep(Path(config.hydra.sweep.dir))
        except NotASweepError:
            return
        paths = write_plots(sweep)
        if paths:
            log.info("report: %s", ", ".join(p.name for p in paths))
