"""The report, drawn automatically when a sweep of Hydra's basic sweeper or the stock
Optuna sweeper ends, by a detached process (hpsweep.report.end_of_sweep.start_report):
the sweep returns at once. The hpsweep sweeper starts its own (hydra.sweeper.report)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hpsweep.hydra_callbacks.results import records_itself
from hpsweep.sweep.spec import is_dry_run

log = logging.getLogger(__name__)


class WriteReport(Callback):
    """Writes the report's PNGs and report.html into the sweep folder at multirun end.

    Switch it off with `~hydra.callbacks.report` (hpsweep's sweepers:
    `hydra.sweeper.report=false`); `background: false` draws before the sweep returns;
    `hpsweep report <dir>` writes the same files any time.
    """

    def __init__(self, background: bool = True) -> None:
        self.background = background
        self.pid: int | None = None  # of the last report started in the background

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if is_dry_run(config) or records_itself(config):
            return
        # Imported here, not with the module: Hydra builds every callback before the
        # bad-input check runs, and that check should not wait for the report's imports.
        from hpsweep.report.end_of_sweep import start_report

        self.pid = start_report(Path(config.hydra.sweep.dir), self.background)
