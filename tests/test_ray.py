"""The Ray extra (`pip install -e '.[ray]'`): hydra-ray-launcher's jobs on a local Ray,
dispatched without a batch barrier, stopped with the sweep, left to continue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hpsweep.sweep.channel import load_recorded_study, registered_job_dir, registered_jobs
from tests.conftest import TRAIN_PY
from tests.sweep_files import assert_records_agree, assert_stopped, stop_sweep_after_rows

pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="the ray extra is not installed")

RAY = (
    "hydra/launcher=ray",
    "hydra.sweeper.n_jobs=2",
    # a local Ray without its dashboard: 4.6 s to start instead of 6.5 s here
    "+hydra.launcher.ray.init.include_dashboard=false",
)


@pytest.mark.long
@pytest.mark.timeout(420)
def test_a_ray_sweep_runs_short_trials_beside_a_long_one_and_stops_with_the_sweep(
    tmp_path: Path,
) -> None:
    sweep = tmp_path / "sweep"
    command = [
        *(sys.executable, str(TRAIN_PY), "-m", *RAY, "trainer.epochs=600,1,1,1"),
        *("data=synthetic", "~callbacks.early_stopping", "hydra.sweeper.report=false"),
        f"hydra.sweep.dir={sweep}",
    ]
    # Trial 0 trains 600 epochs; 1, 2 and 3 one each, one after another in the other
    # slot. Behind a batch barrier, 2 and 3 would wait for 0 to end. The signal comes
    # once trial 0 saved its first state (a slow start of its Ray worker can leave it
    # in its first epoch while the short ones end).
    first_save = sweep / "00" / "state" / "last.pt"
    stop_sweep_after_rows(command, tmp_path, sweep, rows=3, ready=first_save.is_file)

    rows = {r["number"]: r for r in assert_records_agree(sweep)}
    # Trial 0 was launched first and was still in flight when the signal came, yet 1, 2
    # and 3 had ended: no batch waited for it. Cut, it has no row and stays RUNNING in
    # the study, to continue from its saved state on resume (the joblib test resumes).
    assert sorted(rows) == ["1", "2", "3"]
    assert [rows[n]["status"] for n in ("1", "2", "3")] == ["complete"] * 3, rows
    [cut] = [t for t in load_recorded_study(sweep).trials if t.state.name == "RUNNING"]
    job_dir = registered_job_dir(sweep, 0)
    assert job_dir is not None
    assert registered_jobs(sweep)[0] == cut.number
    assert (job_dir / "state" / "last.pt").is_file()  # its periodic save
    # The sweep shut its Ray down: the long job's worker is gone, its log stops growing.
    assert_stopped([str(job_dir)])
    # Ray ends the job, with SystemExit if it gets to run Python: if it wrote its own
    # record, that says why.
    record = job_dir / "metrics.json"
    if record.exists():
        recorded = json.loads(record.read_text())
        assert (recorded["status"], recorded["reason"]) == ("failed", "interrupted by SIGTERM")
