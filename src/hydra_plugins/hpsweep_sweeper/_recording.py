"""What the hpsweep sweeper leaves in the sweep folder, for any Hydra app, no callback
to add: results.csv (its header from the sweep's SweepSpec when the sweep starts, one
row per trial right after the study is told), then best.yaml, the top trials in the
log and the report's plots when the sweep ends.

Each row comes from the same TrialOutcome the study was told (hpsweep.sweep.outcome),
so results.csv and the study agree: a pruned trial is `pruned`, its epochs the last
step the app reported, its seconds measured around the job (hpsweep.sweep.job).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from hpsweep.sweep.channel import registered_job_dir
from hpsweep.sweep.outcome import RunStatus, TrialOutcome, job_dir_of
from hpsweep.sweep.results import (
    RESULTS_FILE,
    append_row,
    outcome_row,
    start_results,
)
from hpsweep.sweep.spec import SweepSpec

log = logging.getLogger(__name__)


class SweepRecorder:
    def __init__(self, config: DictConfig, report: bool, repeats: int = 1) -> None:
        self.config = config
        self.report = report
        self.sweep_dir = Path(config.hydra.sweep.dir)
        self.path = self.sweep_dir / RESULTS_FILE
        # A resumed sweep keeps its file and rows.
        start_results(self.path, SweepSpec.of(config).keys, repeats=repeats > 1)

    def record(
        self,
        job_number: int,
        overrides: list[str],
        outcome: TrialOutcome,
        job_return: Any = None,
        repeat_columns: dict[str, Any] | None = None,
    ) -> None:
        """One trial's row, from the outcome the study was just told. With repeats, the
        configuration's row: `job_number` and `job_return` are its first repeat's, and
        `repeat_columns` (value_sd, repeats, values) come from _repeats.aggregate."""
        job_dir = job_dir_of(job_return) if job_return is not None else None
        job_dir = job_dir or registered_job_dir(self.sweep_dir, job_number)
        row = {**outcome_row(job_number, job_dir, overrides, outcome), **(repeat_columns or {})}
        append_row(self.path, row, metrics=outcome.metrics)

    def record_interrupted(
        self,
        job_number: int,
        overrides: list[str],
        interrupt: KeyboardInterrupt,
        repeats: bool = False,
    ) -> None:
        """A trial a signal cut off: the launch never returned, so the row comes from the
        record the job wrote as it stopped (or, if it wrote none, from the signal). With
        repeats the configuration is failed, "interrupted by ...", as the study is told:
        it is queued again and all its repeats run again on resume.

        A job that failed as it was cut off failed *because* the sweep stopped it (a
        Ray worker ends with SystemExit when the sweep shuts Ray down): its row says
        the signal, with the start and seconds the job recorded, and so does the job's
        own record."""
        if repeats:
            self.record(job_number, overrides, TrialOutcome.of_error(interrupt))
            return
        job_dir = registered_job_dir(self.sweep_dir, job_number)
        recorded = TrialOutcome.read(job_dir) if job_dir is not None else None
        cut = TrialOutcome.of_error(interrupt)
        if recorded is None:
            recorded = cut
        elif recorded.status == RunStatus.FAILED and recorded.reason != cut.reason:
            started, seconds = recorded.started, recorded.seconds
            recorded = TrialOutcome.of_error(interrupt, started=started, seconds=seconds)
            recorded.write(job_dir)  # the job's own record says the same as its row
        self.record(job_number, overrides, recorded)

    def finish(self) -> None:
        """best.yaml, the summary, and (unless hydra.sweeper.report=false) the report,
        drawn by a detached process so that the sweep returns at once."""
        from hpsweep.report.end_of_sweep import start_report, write_best_and_summary

        write_best_and_summary(self.sweep_dir, Path(self.config.hydra.job.name + ".py").name)
        if self.report:
            start_report(self.sweep_dir)
