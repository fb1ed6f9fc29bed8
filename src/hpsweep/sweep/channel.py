"""The sweep folder's channel from the sweeper to its jobs, and the study's storage.

Before launching a job, the hpsweep sweeper writes into the sweep folder which trial
the job runs (`.hpsweep/jobs/<job number>.json`) and the study's storage, name and
pruner (`.hpsweep/study.json`). A job finds them from its own Hydra config (sweep dir
and job number) and opens its trial from the study's storage, not from a variable of
the sweeper's process, so it works in process and in a launcher's workers alike.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hpsweep.sweep.settings import NO_PRUNER
from hpsweep.sweep.storage import dispose, make_storage

CHANNEL_FILE = Path(".hpsweep") / "study.json"
JOBS_DIR = Path(".hpsweep") / "jobs"
JOURNAL_FILE = "optuna-journal.log"
# A PBT member's TensorBoard run in the sweep folder, continued by its segments' jobs.
MEMBER_DIR = "member_{}"
# The default study name. Not the sweep folder's name: Optuna's HyperbandPruner picks a
# trial's bracket from a hash of the study name, and a name with a random part would
# prune different trials each time the same command runs.
DEFAULT_STUDY_NAME = "hpsweep"


def write_channel(
    sweep_dir: Path,
    storage: str,
    study_name: str,
    pruner: dict,
    repeats: int = 1,
    keep_state: bool = False,
    objectives: int = 1,
) -> None:
    path = sweep_dir / CHANNEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    channel: dict[str, Any] = {"storage": storage, "study_name": study_name, "pruner": pruner}
    if repeats > 1:  # the jobs' pruning protocol across repeats (hpsweep.sweep.trial)
        channel["repeats"] = repeats
    if objectives > 1:  # what a job returns and reports: several values (SweepTrial)
        channel["objectives"] = objectives
    if keep_state:  # hydra.sweeper.keep_state: a job keeps its state when it ends
        channel["keep_state"] = True
    path.write_text(json.dumps(channel, indent=2) + "\n")


def read_channel(sweep_dir: Path) -> dict[str, Any]:
    """{"storage": ..., "study_name": ..., "pruner": {...}} of an hpsweep sweep folder.
    The storage is recorded without its password (hpsweep.sweep.storage)."""
    return json.loads((sweep_dir / CHANNEL_FILE).read_text())


def has_pruner(channel: dict[str, Any]) -> bool:
    return channel["pruner"].get("_target_") != NO_PRUNER


def load_recorded_study(sweep_dir: Path) -> Any:
    """The Optuna study of an hpsweep sweep folder, from the storage it recorded."""
    import optuna

    channel = read_channel(sweep_dir)
    return optuna.load_study(
        study_name=channel["study_name"], storage=make_storage(channel["storage"])
    )


@contextmanager
def recorded_study(sweep_dir: Path) -> Iterator[Any]:
    """load_recorded_study for the block; a database's connections are closed after it."""
    study = load_recorded_study(sweep_dir)
    try:
        yield study
    finally:
        dispose(study._storage)  # Optuna's Study exposes its storage only privately


def register_job(
    sweep_dir: Path,
    job_number: int,
    trial_number: int,
    slot: int | None = None,
    repeat: int | None = None,
    segment: dict[str, Any] | None = None,
) -> None:
    """Which trial a job runs, in which of the sweeper's slots (one per job in flight:
    with `trainer.device=auto` and k GPUs, slot s trains on GPU s mod k), and, with
    repeats (hydra.sweeper.repeats > 1), as its configuration's `repeat`-th seed. A
    PBT segment's job (hydra/sweeper=pbt) also gets its `segment`: the epoch it stops
    at, the saved state it starts from, its member's TensorBoard folder
    (hpsweep.sweep.trial.SweepTrial)."""
    entry: dict[str, Any] = {"trial": trial_number}
    if slot is not None:
        entry["slot"] = slot
    if repeat is not None:
        entry["repeat"] = repeat
    if segment is not None:
        entry["segment"] = segment
    _write_job(sweep_dir, job_number, entry)


def registered_entry(sweep_dir: Path, job_number: int) -> dict[str, Any] | None:
    """What register_job (and, once the job started, register_job_dir) recorded of a
    job of this sweep folder: its trial, and its slot, repeat, segment, folder and
    process where it has them; None if the hpsweep sweeper did not launch it. A job
    reads it once (SweepTrial.for_job)."""
    path = sweep_dir / JOBS_DIR / f"{job_number}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def register_job_dir(sweep_dir: Path, job_number: int, job_dir: Path) -> None:
    """The job's own folder and process, written by the job as it starts: the sweeper
    finds a job's outcome record there even when a signal stopped the launch before it
    returned, and on a signal it tells that process (a worker's) to save and stop."""
    registered = registered_entry(sweep_dir, job_number)
    assert registered is not None, f"job {job_number} runs, so the sweeper registered it"
    _write_job(sweep_dir, job_number, {**registered, "job_dir": str(job_dir), "pid": os.getpid()})


def registered_pid(sweep_dir: Path, job_number: int) -> int | None:
    """The process that runs (or ran) the job; None until it started."""
    return (registered_entry(sweep_dir, job_number) or {}).get("pid")


def registered_job_dir(sweep_dir: Path, job_number: int) -> Path | None:
    job_dir = (registered_entry(sweep_dir, job_number) or {}).get("job_dir")
    return Path(job_dir) if job_dir else None


def _write_job(sweep_dir: Path, job_number: int, entry: dict[str, Any]) -> None:
    # Atomically: the sweeper reads every entry while jobs of another batch run.
    path = sweep_dir / JOBS_DIR / f"{job_number}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(entry) + "\n")
    tmp.replace(path)


def registered_jobs(sweep_dir: Path) -> dict[int, int]:
    """job number -> trial number, for every job this sweep folder launched."""
    return {
        int(path.stem): json.loads(path.read_text())["trial"]
        for path in (sweep_dir / JOBS_DIR).glob("*.json")
    }
