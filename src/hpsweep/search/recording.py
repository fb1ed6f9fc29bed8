"""One outcome per configuration, given to the study and to results.csv alike.

What the hpsweep sweeper leaves in the sweep folder, for any Hydra app, no callback to
add: results.csv (its header from the sweep's SweepSpec when the sweep starts, one row
per trial right after the study is told), then best.yaml, the top trials in the log and
the report's plots when the sweep ends.

Every path goes through `SweepRecorder.record`, which tells the study and appends the
row from the same TrialOutcome (hpsweep.sweep.outcome): a configuration whose jobs all
ended, and one whose jobs all ended before a signal came (`interrupted_outcome`). So
the study, results.csv and the job's own record (and TensorBoard's status, which the
job wrote from that record's status) agree on every path. A configuration the signal
cut is not recorded at all: its trial stays RUNNING, with no row, and the next session
continues it in its own folders from its saved states (hpsweep.search.study):

    what the cut-off job left          recorded now                           on resume
    nothing (killed outright)          nothing: RUNNING, no row               continues
    failed (in its own words, or       nothing: RUNNING, no row; the job's    continues
      "interrupted by SIGTERM")          record says "interrupted by SIGTERM"
    complete / early_stopped /         as it is: it ended before the signal   not run again
      pruned / diverged
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import optuna
from omegaconf import DictConfig

from hpsweep.search.bookkeeping import STATUS_ATTR, tell_arguments
from hpsweep.search.configuration import Configuration
from hpsweep.search.racing import Race
from hpsweep.search.repeats import REPEATS_ATTR, RepeatPlan, configuration_outcome
from hpsweep.sweep.channel import registered_job_dir
from hpsweep.sweep.outcome import RunStatus, TrialOutcome, job_dir_of, outcome_of_job
from hpsweep.sweep.results import (
    RESULTS_FILE,
    append_row,
    mark_pareto,
    outcome_row,
    start_results,
)
from hpsweep.sweep.settings import directions_of
from hpsweep.sweep.spec import SweepSpec

log = logging.getLogger(__name__)


def interrupted_outcome(
    recorded: TrialOutcome | None, interrupt: KeyboardInterrupt
) -> TrialOutcome:
    """The outcome of a job a signal cut off, from the record it left (see the table)."""
    cut = TrialOutcome.of_error(interrupt)
    if recorded is None:
        return cut
    if recorded.status == RunStatus.FAILED and recorded.reason != cut.reason:
        # It failed *because* the sweep stopped it: the signal is the reason.
        return TrialOutcome.of_error(interrupt, started=recorded.started, seconds=recorded.seconds)
    return recorded


def is_cut(outcome: TrialOutcome) -> bool:
    """Whether an interrupted configuration's outcome is a cut, to be run again."""
    return outcome.status == RunStatus.FAILED


class SweepRecorder:
    def __init__(
        self,
        config: DictConfig,
        study: optuna.Study,
        repeats: RepeatPlan,
        race: Race | None = None,
        pbt: bool = False,
    ) -> None:
        self.config = config
        self.study = study
        self.repeats = repeats
        self.race = race  # racing: its pooled sd is a one-seed row's value_sd
        self.sweep_dir = Path(config.hydra.sweep.dir)
        self.path = self.sweep_dir / RESULTS_FILE
        # A resumed sweep keeps its file and rows.
        self.directions = directions_of(config.hydra.sweeper.get("direction", "minimize"))
        start_results(
            self.path,
            SweepSpec.of(config).keys,
            repeats=repeats.seeded,
            objectives=len(self.directions),
            pbt=pbt,
        )

    def record_ended(self, configuration: Configuration) -> TrialOutcome:
        """A configuration whose jobs all ended: one outcome (with repeats, their
        aggregate) told and written; returns it."""
        returns = configuration.returns()
        outcomes = [outcome_of_job(ret) for ret in returns]
        outcome, columns = configuration_outcome(outcomes, self.repeats, self.noise_sd())
        job_dir = job_dir_of(returns[0]) or self.job_dir(configuration.first_job)
        self.record(configuration, outcome, job_dir, columns)
        return outcome

    def record_interrupted(
        self, configuration: Configuration, interrupt: KeyboardInterrupt
    ) -> bool:
        """A configuration in flight when a signal came: each job's outcome from the
        record it left (`interrupted_outcome`). Recorded if every job had ended; else
        cut (True): left RUNNING, with no row, to continue on resume."""
        outcomes = []
        for number in configuration.numbers:
            job_dir = self.job_dir(number)
            recorded = TrialOutcome.read(job_dir) if job_dir is not None else None
            outcome = interrupted_outcome(recorded, interrupt)
            if job_dir is not None and recorded is not None and outcome is not recorded:
                outcome.write(job_dir)  # the job's own record says what its row says
            outcomes.append(outcome)
        if any(is_cut(o) for o in outcomes):
            # With repeats, a configuration is recorded once all its seeds ended: its
            # ended ones keep their records, and on resume only the cut ones run.
            return True
        outcome, columns = configuration_outcome(outcomes, self.repeats, self.noise_sd())
        self.record(configuration, outcome, self.job_dir(configuration.first_job), columns)
        return False

    def record(
        self,
        configuration: Configuration,
        outcome: TrialOutcome,
        job_dir: Path | None,
        repeat_columns: dict[str, Any] | None = None,
        columns: dict[str, Any] | None = None,
    ) -> bool:
        """Tell the study the configuration's outcome and append its row, from the same
        object; `job_dir` is its first job's folder; `columns`, more of the row's own
        (a PBT segment's). True if it failed."""
        trial = configuration.trial
        if repeat_columns is not None:
            trial.set_user_attr(REPEATS_ATTR, repeat_columns)
        if outcome.reason:
            log.warning("trial %d %s: %s", trial.number, outcome.status, outcome.reason)
        trial.set_user_attr(STATUS_ATTR, str(outcome.status))
        value, state = tell_arguments(outcome)
        self.study.tell(trial, value, state=state)
        row = outcome_row(configuration.first_job, job_dir, configuration.overrides, outcome)
        row.update({**(repeat_columns or {}), **(columns or {})})
        append_row(self.path, row, metrics=outcome.metrics)
        return outcome.status == RunStatus.FAILED

    def noise_sd(self) -> float | None:
        return None if self.race is None else self.race.noise_sd()

    def job_dir(self, number: int) -> Path | None:
        """A job's folder, as the job registered it when it started (None: never started)."""
        return registered_job_dir(self.sweep_dir, number)

    def finish(self, report: bool, best_yaml: bool = True) -> None:
        """best.yaml (unless `best_yaml` is False: a PBT sweep writes its own), the
        summary, and (unless hydra.sweeper.report=false) the report, drawn by a
        detached process so that the sweep returns at once."""
        from hpsweep.report.end_of_sweep import start_report, write_best_and_summary

        if len(self.directions) > 1:  # the front: known only once every trial is in
            mark_pareto(self.path, self.directions)
        script = Path(self.config.hydra.job.name + ".py").name
        write_best_and_summary(self.sweep_dir, script, best_yaml)
        if report:
            start_report(self.sweep_dir)
