"""The channel from a running job to its trial in the sweep's Optuna study.

Before launching a job, the hpsweep sweeper writes into the sweep folder which
trial the job runs (`.hpsweep/jobs/<job number>.json`) and the study's storage,
name and pruner (`.hpsweep/study.json`). A job finds them from its own Hydra config
(sweep dir and job number) and opens its trial from the study's storage — not from a
variable of the sweeper's process — so it works in process and in a launcher's
workers alike, and its overrides stay exactly the trial's parameters.
Public API, for any Hydra app:

    from hpsweep.sweep_trial import SweepTrial

    trial = SweepTrial.current()          # None outside an hpsweep sweep
    for epoch in range(1, epochs + 1):
        ...
        if trial is not None:
            trial.report(val_loss, step=epoch)
            if trial.should_prune():
                break                     # the sweeper records the trial as pruned
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

CHANNEL_FILE = Path(".hpsweep") / "study.json"
JOBS_DIR = Path(".hpsweep") / "jobs"
JOURNAL_FILE = "optuna-journal.log"
PRUNED_ATTR = "hpsweep_pruned_at_step"
NO_PRUNER = "optuna.pruners.NopPruner"


def make_storage(spec: str) -> Any:
    """An Optuna storage from an RDB URL (has "://") or a journal file path."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if "://" in spec:
        return _rdb_storage(spec)
    return optuna.storages.JournalStorage(JournalFileBackend(spec))


def _rdb_storage(url: str, attempts: int = 5) -> Any:
    """Optuna's RDB storage. Two processes that start on a new database at once both
    create Optuna's tables, and one of them loses that race with an IntegrityError:
    it then finds the tables made and only has to connect again."""
    import optuna
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(attempts):
        try:
            return optuna.storages.get_storage(url)
        except (IntegrityError, ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def write_channel(sweep_dir: Path, storage: str, study_name: str, pruner: dict) -> None:
    path = sweep_dir / CHANNEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    channel = {"storage": storage, "study_name": study_name, "pruner": pruner}
    path.write_text(json.dumps(channel, indent=2) + "\n")


def read_channel(sweep_dir: Path) -> dict[str, Any]:
    """{"storage": ..., "study_name": ..., "pruner": {...}} of an hpsweep sweep folder."""
    return json.loads((sweep_dir / CHANNEL_FILE).read_text())


def load_recorded_study(sweep_dir: Path) -> Any:
    """The Optuna study of an hpsweep sweep folder, from the storage it recorded."""
    import optuna

    channel = read_channel(sweep_dir)
    return optuna.load_study(
        study_name=channel["study_name"], storage=make_storage(channel["storage"])
    )


def register_job(sweep_dir: Path, job_number: int, trial_number: int) -> None:
    path = sweep_dir / JOBS_DIR / f"{job_number}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"trial": trial_number}) + "\n")


def registered_jobs(sweep_dir: Path) -> list[int]:
    return [int(path.stem) for path in (sweep_dir / JOBS_DIR).glob("*.json")]


def registered_trials(sweep_dir: Path) -> set[int]:
    """Trial numbers that jobs of this sweep folder ran (or were running)."""
    return {json.loads(p.read_text())["trial"] for p in (sweep_dir / JOBS_DIR).glob("*.json")}


class SweepTrial:
    """One running trial: report intermediate values, ask whether to stop."""

    def __init__(self, trial: Any) -> None:
        self._trial = trial
        self._last_step: int | None = None

    @property
    def number(self) -> int:
        return self._trial.number

    @classmethod
    def current(cls) -> SweepTrial | None:
        """The trial of this job, when an hpsweep sweeper launched it; else None."""
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
            return None
        hydra_cfg = HydraConfig.get()
        sweep_dir = Path(hydra_cfg.sweep.dir)
        job_file = sweep_dir / JOBS_DIR / f"{hydra_cfg.job.num}.json"
        if not job_file.is_file():
            return None  # another sweeper launched this job
        channel = read_channel(sweep_dir)
        if channel["pruner"].get("_target_") == NO_PRUNER:
            # Nothing would read what the job reports: skip the storage write per epoch.
            return None
        return cls.open(sweep_dir, json.loads(job_file.read_text())["trial"], channel)

    @classmethod
    def open(
        cls, sweep_dir: Path, number: int, channel: dict[str, Any] | None = None
    ) -> SweepTrial:
        import optuna
        from hydra.utils import instantiate

        channel = channel or read_channel(sweep_dir)
        storage = make_storage(channel["storage"])
        pruner = instantiate(channel["pruner"], _execution_whitelist_=("optuna.pruners.*",))
        study = optuna.load_study(study_name=channel["study_name"], storage=storage, pruner=pruner)
        study_id = storage.get_study_id_from_name(channel["study_name"])
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
        return cls(optuna.trial.Trial(study, trial_id))

    def report(self, value: float, step: int) -> None:
        """Record the value of the monitored metric after `step` epochs."""
        self._trial.report(value, step)
        self._last_step = step

    def should_prune(self) -> bool:
        """Whether the study's pruner stops this trial now; records the decision."""
        prune = self._trial.should_prune()
        if prune:
            self._trial.set_user_attr(PRUNED_ATTR, self._last_step)
        return prune
