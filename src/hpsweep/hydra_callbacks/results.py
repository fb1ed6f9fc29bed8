"""results.csv for every sweeper: a Hydra callback appends each job's outcome as it ends.

It runs where the job runs (in process, or in a launcher's worker), after the job has
written its outcome record, so Hydra's basic sweeper, the stock Optuna sweeper and ours
all leave the same file with the same statuses. At the end of the sweep it writes
best.yaml, the full composed config of the best trial, and logs the report's summary
(hpsweep.report.summary): one ranking for the log, best.yaml and `hpsweep report`.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from hpsweep.report.loading import load_sweep
from hpsweep.report.summary import summary_text
from hpsweep.sweep.outcome import outcome_of_job
from hpsweep.sweep.results import (
    BEST_FILE,
    RESULTS_FILE,
    append_row,
    outcome_row,
    start_results,
)
from hpsweep.sweep.spec import SweepSpec, is_dry_run

log = logging.getLogger(__name__)

TOP = 5


class RecordResults(Callback):
    """Writes results.csv as trials end, best.yaml and a summary when the sweep ends."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not is_dry_run(config):
            start_results(Path(config.hydra.sweep.dir) / RESULTS_FILE, SweepSpec.of(config).keys)

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        path = Path(config.hydra.sweep.dir) / RESULTS_FILE
        if not path.exists():
            return
        row = outcome_row(
            config.hydra.job.num,
            Path(config.hydra.runtime.output_dir),
            list(config.hydra.overrides.task),
            outcome_of_job(job_return),
        )
        append_row(path, row)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not (sweep_dir / RESULTS_FILE).exists():
            return
        # The report's reading and ranking, so the log, best.yaml and `hpsweep report`
        # name the same trials in the same order.
        sweep = load_sweep(sweep_dir)
        ranked = sweep.ranked()
        if not ranked:
            log.warning("no completed trials in %s: no best.yaml", sweep_dir / RESULTS_FILE)
            return
        best = ranked[0]
        assert best.job_dir is not None
        shutil.copyfile(best.job_dir / ".hydra" / "config.yaml", sweep_dir / BEST_FILE)
        log.info("%s", summary_text(sweep, top=TOP))
        log.info(
            "best: trial %s, value %s. Re-run it with:\n"
            "  python %s --config-path %s --config-name best",
            best.number,
            best.value,
            Path(config.hydra.job.name + ".py").name,
            sweep_dir.resolve(),
        )
