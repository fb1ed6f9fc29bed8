"""A sweep's job as the hpsweep sweeper runs it: its trial current, its outcome recorded.

The sweeper hands Hydra's launcher `RecordedTask(task_function)` instead of the task
itself. In the job's process (in process, or in a joblib/submitit worker) it opens the
job's trial, runs the task with that trial current, and, unless the task wrote its own
outcome record (train.py does: it knows early stopping and divergence), writes one
from what the task returned or raised and what it reported to the trial.

A resumed sweep re-launches a cut configuration's jobs into their own folders. A job
that had ended before the cut (its record says how) is not run again: its record
stands. One the cut stopped (its record says `failed`, or it left none) runs again,
its stale record removed first, and continues from its saved state if it saved one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from hpsweep.sweep.channel import register_job_dir
from hpsweep.sweep.interruption import stopping_the_job_not_the_worker
from hpsweep.sweep.outcome import OUTCOME_FILE, RunStatus, TrialOutcome, utc_now
from hpsweep.sweep.trial import SweepTrial


class RecordedTask:
    def __init__(self, task_function: Any) -> None:
        self.task_function = task_function

    def __call__(self, cfg: DictConfig) -> Any:
        from hydra.core.hydra_config import HydraConfig

        hydra_cfg = HydraConfig.get()
        job_dir = Path(hydra_cfg.runtime.output_dir)
        trial = SweepTrial.for_job(Path(hydra_cfg.sweep.dir), hydra_cfg.job.num, job_dir, cfg)
        if trial is None:  # not one of ours: run it as it is
            return self.task_function(cfg)
        started, clock = utc_now(), time.perf_counter()
        # In a worker, SIGTERM unwinds this job (StoppedBySignal, recorded below) from
        # before its process is published: the sweep signals only registered processes.
        with stopping_the_job_not_the_worker():
            try:
                register_job_dir(trial.sweep_dir, hydra_cfg.job.num, job_dir)
                before = TrialOutcome.read(job_dir)
                if before is not None and before.status != RunStatus.FAILED:
                    return before.value  # it ended before a cut stopped its configuration
                (job_dir / OUTCOME_FILE).unlink(missing_ok=True)
                with trial.activate():
                    result = self.task_function(cfg)
            except BaseException as error:  # KeyboardInterrupt too: recorded, re-raised
                if TrialOutcome.read(job_dir) is None:
                    seconds = time.perf_counter() - clock
                    TrialOutcome.of_error(error, started=started, seconds=seconds).write(job_dir)
                raise
        if TrialOutcome.read(job_dir) is None:
            TrialOutcome.of_return(
                result,
                pruned_at=trial.pruned_at,
                epochs=trial.last_step,
                started=started,
                seconds=time.perf_counter() - clock,
                metrics=trial.metrics,
                objectives=trial.objectives,
            ).write(job_dir)
        return result
