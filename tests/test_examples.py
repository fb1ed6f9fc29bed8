"""The examples, as a user runs them: a copy of the example's folder (nothing of
train.py), its own command, in a subprocess with -W error. Each sweep must prune, and
results.csv's pruned rows must be the study's PRUNED trials.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from hpsweep.sweep.channel import load_recorded_study, read_channel, registered_jobs
from tests.conftest import ROOT, WARNINGS_AS_ERRORS
from tests.sweep_files import assert_records_agree, sweep_dir_of
from tests.test_report import png_size, report_here, wait_for_page

EXAMPLES = ROOT / "examples"


def run_example(example: str, script: str, *args: str, cwd: Path, python_flags: tuple = ()):
    """`python <script> <args>` from a copy of examples/<example>/ in cwd."""
    shutil.copytree(EXAMPLES / example, cwd, dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [sys.executable, *WARNINGS_AS_ERRORS, *python_flags, script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_pruned_rows_are_the_studys(sweep: Path) -> list[dict[str, str]]:
    rows = assert_records_agree(sweep)
    jobs = registered_jobs(sweep)
    pruned_rows = {jobs[int(r["number"])] for r in rows if r["status"] == "pruned"}
    study = load_recorded_study(sweep)
    pruned_trials = {t.number for t in study.trials if t.state == TrialState.PRUNED}
    assert pruned_rows == pruned_trials
    assert pruned_rows, "nothing was pruned"
    return rows


def test_a_plain_hydra_app_sweeps_with_hyperband(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = run_example(
        "hydra_app",
        "app.py",
        *("-m", "hydra/sweeper=hyperband", "x=interval(-2,2)", "hydra.sweeper.n_trials=12"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    rows = assert_pruned_rows_are_the_studys(sweep)

    assert len(rows) == 12
    # The app has no trainer.epochs: Hyperband's maximum resource is Optuna's "auto".
    assert read_channel(sweep)["pruner"]["max_resource"] == "auto"
    for row in rows:
        # epochs: the last step the app reported; seconds: measured around the job
        assert int(row["epochs"]) < 27 if row["status"] == "pruned" else int(row["epochs"]) == 27
        assert float(row["seconds"]) > 0
        # SweepTrial.record("distance", ...): a column of its own, after reason
        assert float(row["distance"]) == pytest.approx(abs(float(row["x"]) - 0.5))
    with (sweep / "results.csv").open(newline="") as file:
        assert next(csv.reader(file))[-2:] == ["reason", "distance"]
    assert "x:" in (sweep / "best.yaml").read_text()
    assert "Re-run it with:\n  python app.py --config-path" in result.stdout

    # `hpsweep report` on the app's sweep writes the plots again, once the sweep's own
    # background report has ended (it would write them beside this one).
    wait_for_page(sweep)
    for png in sweep.glob("*.png"):
        png.unlink()
    shown = report_here(sweep, capfd)
    assert shown.returncode == 0, shown.stderr
    assert "12 trials" in shown.stdout
    plots = {p.name: png_size(p) for p in sweep.glob("*.png")}
    # one searched parameter (x): no importances plot, the report says why instead
    assert set(plots) >= {"history.png", "objective_vs_params.png", "parallel_coordinates.png"}


# Lightning 2.6 calls a torch.utils._pytree API that torch 2.13 deprecates: not ours.
LIGHTNING_WARNINGS = ("-W", "ignore:`isinstance(treespec, LeafSpec)` is deprecated:FutureWarning")


@pytest.mark.long
def test_the_lightning_example_prunes_inside_a_sweep(tmp_path: Path) -> None:
    pytest.importorskip("pytorch_lightning", reason="the `lightning` extra is not installed")
    result = run_example(
        "lightning",
        "train_digits.py",
        *("-m", "hydra/sweeper=hyperband", "lr=tag(log,interval(1e-4,1))"),
        *("hydra.sweeper.n_trials=6", "trainer.epochs=3", "trainer.batch_size=128"),
        "hydra.sweeper.report=false",
        cwd=tmp_path,
        python_flags=LIGHTNING_WARNINGS,
    )
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    rows = assert_pruned_rows_are_the_studys(sweep)
    # The app has trainer.epochs: it is Hyperband's maximum resource.
    assert read_channel(sweep)["pruner"]["max_resource"] == 3
    assert all(1 <= int(r["epochs"]) <= 3 for r in rows)
    assert not list(sweep.glob("*.png"))  # hydra.sweeper.report=false


@pytest.mark.long
def test_the_lightning_example_resumes_a_killed_trial_through_ckpt_path(tmp_path: Path) -> None:
    """kill -9 of the example's sweep once its first trial saved a checkpoint; the same
    command again: that trial continues from its checkpoint through Lightning's own
    ckpt_path, and the study holds one curve of epochs 1..40 for each trial."""
    pytest.importorskip("pytorch_lightning", reason="the `lightning` extra is not installed")
    epochs, sweep = 40, tmp_path / "sweep"
    command = [
        *("-m", "hydra/sweeper=random", "lr=choice(0.01,0.003)", "hydra.sweeper.n_trials=2"),
        # a pruner, so that every epoch is reported; none pruned before 100 trials
        *("hydra/sweeper/pruner=median", "hydra.sweeper.pruner.n_startup_trials=100"),
        *(f"trainer.epochs={epochs}", "hydra.sweeper.report=false", f"hydra.sweep.dir={sweep}"),
    ]
    shutil.copytree(EXAMPLES / "lightning", tmp_path, dirs_exist_ok=True)
    first = subprocess.Popen(
        [sys.executable, *LIGHTNING_WARNINGS, "train_digits.py", *command],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoint = sweep / "0" / "state" / "last.ckpt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists():
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    first.kill()
    first.wait(timeout=60)
    assert not (sweep / "0" / "metrics.json").exists()  # killed mid-trial

    result = run_example(
        "lightning", "train_digits.py", *command, cwd=tmp_path, python_flags=LIGHTNING_WARNINGS
    )
    assert result.returncode == 0, result.stderr
    assert f"resuming from {checkpoint}" in (sweep / "0" / "train_digits.log").read_text()
    rows = assert_records_agree(sweep)
    assert [(r["status"], r["epochs"]) for r in rows] == [("complete", str(epochs))] * 2
    for trial in load_recorded_study(sweep).trials:
        assert sorted(trial.intermediate_values) == list(range(1, epochs + 1))
    assert not checkpoint.exists()  # finished: nothing to resume
