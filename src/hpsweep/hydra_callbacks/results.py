"""results.csv for Hydra's basic sweeper and the stock Optuna sweeper: a Hydra callback
appends each job's outcome as it ends.

It runs where the job runs (in process, or in a launcher's worker), after the job has
written its outcome record, so those sweepers leave the same file with the same
statuses as ours. At the end of the sweep it writes best.yaml, the full composed
config of the best trial, and logs the summary (hpsweep.report.end_of_sweep).

The hpsweep sweeper records its trials itself, for any app, with no callback
(hpsweep.search.recording); this callback stands aside in its
sweeps so that no row is written twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from hpsweep.sweep.outcome import outcome_of_job
from hpsweep.sweep.results import (
    RESULTS_FILE,
    append_row,
    outcome_row,
    start_results,
)
from hpsweep.sweep.settings import is_hpsweep_sweeper
from hpsweep.sweep.spec import SweepSpec, is_dry_run


def records_itself(config: DictConfig) -> bool:
    """Whether the multirun's sweeper is hpsweep's, which writes results.csv, best.yaml,
    the summary and the report itself."""
    return is_hpsweep_sweeper(config)


class RecordResults(Callback):
    """Writes results.csv as trials end, best.yaml and a summary when the sweep ends,
    for the sweepers that do not (Hydra's basic sweeper, the stock Optuna sweeper)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not is_dry_run(config) and not records_itself(config):
            start_results(Path(config.hydra.sweep.dir) / RESULTS_FILE, SweepSpec.of(config).keys)

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN or records_itself(config):
            return
        path = Path(config.hydra.sweep.dir) / RESULTS_FILE
        if not path.exists():
            return
        outcome = outcome_of_job(job_return)
        row = outcome_row(
            config.hydra.job.num,
            Path(config.hydra.runtime.output_dir),
            list(config.hydra.overrides.task),
            outcome,
        )
        append_row(path, row, metrics=outcome.metrics)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if records_itself(config):
            return
        # Imported here: Hydra builds every callback before the bad-input check runs.
        from hpsweep.report.end_of_sweep import write_best_and_summary

        write_best_and_summary(
            Path(config.hydra.sweep.dir), Path(config.hydra.job.name + ".py").name
        )
