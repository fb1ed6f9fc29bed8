"""The report, drawn automatically when a sweep ends (every sweeper), off the sweep's clock.

Drawing takes seconds (matplotlib, Optuna's importances, every trial's TensorBoard log
read back): in the sweep's own process it was 5-13% of a 40-trial sweep's wall time.
So at multirun end this callback starts `python -m hpsweep.report.cli report <dir>` as
a detached process and returns at once, printing where the report will be; the sweep
exits while the PNGs and report.html are drawn. `background: false` draws in process
instead, for a script that reads report.html right after the sweep.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hpsweep.sweep.results import RESULTS_FILE
from hpsweep.sweep.spec import is_dry_run

log = logging.getLogger(__name__)

LOG_FILE = "report.log"  # what the background report printed: its summary, or its error


class WriteReport(Callback):
    """Writes the report's PNGs and report.html into the sweep folder at multirun end.

    Switch it off with `~hydra.callbacks.report`; `hpsweep report <dir>` writes the
    same files any time.
    """

    def __init__(self, background: bool = True) -> None:
        self.background = background
        self.pid: int | None = None  # of the last report started in the background

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if is_dry_run(config):
            return
        sweep_dir = Path(config.hydra.sweep.dir)
        if not (sweep_dir / RESULTS_FILE).is_file():
            return
        command = [sys.executable, "-m", "hpsweep.report.cli", "report", str(sweep_dir)]
        page = sweep_dir.resolve() / "report.html"
        if not self.background:
            from hpsweep.report.cli import main

            main(command[3:])
            return
        with (sweep_dir / LOG_FILE).open("wb") as output:
            # Through a shell that starts it in the background and exits at once: the
            # report outlives the sweep without being its child (no zombie to reap, no
            # "subprocess is still running" at exit), in its own session, so a Ctrl-C
            # in the terminal after the sweep has returned does not cut it short.
            shell = subprocess.run(
                ["sh", "-c", '"$@" >&2 & echo $!', "sh", *command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=output,
                start_new_session=True,
                check=True,
            )
        self.pid = int(shell.stdout)  # the shell printed only that; the report writes its log
        log.info("report: drawing in the background into %s (its log: %s)", page, LOG_FILE)
