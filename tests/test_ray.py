"""The Ray extra (`pip install -e '.[ray]'`): hydra-ray-launcher's jobs on a local Ray,
dispatched without a batch barrier, stopped with the sweep and queued again."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from hpsweep.search.bookkeeping import REQUEUED_ATTR
from hpsweep.sweep.channel import load_recorded_study
from tests.conftest import TRAIN_PY
from tests.sweep_files import assert_records_agree, assert_stopped, stop_sweep_after_rows
from tests.test_dispatch import timestamps

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
    # slot. Behind a batch barrier, 2 and 3 would wait for 0 to end.
    stop_sweep_after_rows(command, tmp_path, sweep, rows=3)

    rows = {r["number"]: r for r in assert_records_agree(sweep)}
    assert [rows[n]["status"] for n in ("1", "2", "3")] == ["complete"] * 3, rows
    cut = rows["0"]
    assert cut["reason"] == "interrupted by SIGTERM", cut
    # Trial 0 was launched first and was still in flight when the signal came, yet 2
    # and 3 had ended: no batch waited for it.
    cut_at = datetime.fromisoformat(cut["finished"])
    assert all(timestamps(rows[n])[1] < cut_at for n in ("2", "3")), rows
    # The sweep shut its Ray down: the long job's worker is gone, its log stops growing.
    assert_stopped([cut["job_dir"]])
    # Ray ends the job, with SystemExit if it gets to run Python: if it wrote its own
    # record, that says why, as its row does.
    record = Path(cut["job_dir"]) / "metrics.json"
    if record.exists():
        recorded = json.loads(record.read_text())
        assert (recorded["status"], recorded["reason"]) == ("failed", "interrupted by SIGTERM")

    # Queued again, whole: on resume it runs once more (the joblib test resumes).
    trials = load_recorded_study(sweep).trials
    [again] = [t for t in trials if t.user_attrs.get(REQUEUED_ATTR) == 0]
    assert again.state.name == "WAITING"
    assert again.system_attrs["fixed_params"] == trials[0].params  # enqueued: not yet run
    assert trials[0].state.name == "FAIL"
