"""`hpsweep report` on real sweeps of every kind: finished, pruned, grid, still running."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from optuna.importance import get_param_importances

from hpsweep.report import load_sweep
from hpsweep.report.plots import as_study
from hpsweep.sweep.channel import load_recorded_study
from tests.conftest import TRAIN_PY
from tests.sweep_files import results, sweep_dir_of, wait_for_rows
from tests.test_cli import run_train

EVERY_PLOT = {
    "history.png",
    "importances.png",
    "parallel_coordinates.png",
    "objective_vs_lr.png",
    "learning_curves.png",
}


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header: the file is a real image, not a stub."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def report(sweep: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    hpsweep = Path(sys.executable).with_name("hpsweep")
    return subprocess.run(
        [str(hpsweep), "report", str(sweep), *flags], capture_output=True, text=True, timeout=300
    )


def top_numbers_in_results(sweep: Path, count: int) -> list[str]:
    rows = [r for r in results(sweep) if r["status"] in ("complete", "early_stopped")]
    rows.sort(key=lambda r: float(r["value"]))
    return [r["number"] for r in rows[:count]]


SWEEPS = {
    "tpe": [
        "hydra/sweeper=tpe",
        "optimizer.lr=tag(log,interval(1e-4,1e-1))",
        "model.width=32,64",
        "hydra.sweeper.n_trials=6",
        "trainer.epochs=4",
    ],
    "hyperband": [
        "hydra/sweeper=hyperband",
        "optimizer.lr=tag(log,interval(1e-5,1))",
        "hydra.sweeper.n_trials=12",
        "trainer.epochs=9",
    ],
    "grid": ["hydra/sweeper=grid", "optimizer.lr=0.001,0.01,0.1", "trainer.epochs=4"],
}


@pytest.mark.parametrize("kind", list(SWEEPS))
def test_report_of_a_finished_sweep(kind: str, tmp_path: Path) -> None:
    result = run_train("-m", *SWEEPS[kind], "data=synthetic", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "created in memory" not in result.stdout + result.stderr  # the report's own study
    sweep = sweep_dir_of(tmp_path)
    # written automatically at the end of the sweep
    assert {p.name for p in sweep.glob("*.png")} >= {"history.png", "objective_vs_lr.png"}

    shown = report(sweep, "--top", "3")
    assert shown.returncode == 0, shown.stderr
    table = shown.stdout.split("top ", 1)[1].splitlines()[2:5]  # after the title and header
    assert [line.split()[0] for line in table] == top_numbers_in_results(sweep, 3)
    if kind == "hyperband":
        assert "pruned" in shown.stdout
        assert "saved" in shown.stdout
    plots = {p.name: png_size(p) for p in sweep.glob("*.png")}
    expected = (
        EVERY_PLOT if kind != "grid" else EVERY_PLOT - {"importances.png"} | {"importances.png"}
    )
    assert set(plots) >= expected - (
        {"importances.png", "parallel_coordinates.png"} if kind == "grid" else set()
    )
    assert all(width >= 300 and height >= 200 for width, height in plots.values())

    # importances name the searched parameters
    assert "optimizer.lr" in get_param_importances(as_study(load_sweep(sweep)))


def test_report_of_a_sweep_still_running(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, str(TRAIN_PY), "-m", "optimizer.lr=0.001,0.002,0.003,0.004,0.005"),
            *("trainer.epochs=30", "~callbacks.early_stopping", "hydra.sweep.dir=sweep"),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_rows(tmp_path / "sweep", 2, process)
        shown = report(tmp_path / "sweep")
        assert shown.returncode == 0, shown.stderr
        assert "complete" in shown.stdout
        assert (tmp_path / "sweep" / "history.png").is_file()
    finally:
        process.kill()
        process.wait()


def test_a_folder_that_is_not_a_sweep(tmp_path: Path) -> None:
    shown = report(tmp_path)
    assert shown.returncode == 1
    assert shown.stderr.strip() == f"Error: {tmp_path} is not a sweep folder: it has no results.csv"


def test_the_recorded_study_loads_through_optuna(tmp_path: Path) -> None:
    """What optuna-dashboard opens: the storage recorded in the sweep folder."""
    result = run_train(
        "-m",
        "optimizer.lr=interval(1e-4,1e-1)",
        "hydra.sweeper.n_trials=3",
        "data=synthetic",
        "trainer.epochs=2",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    study = load_recorded_study(sweep_dir_of(tmp_path))
    assert len(study.trials) == 3
    assert all(t.state.name == "COMPLETE" for t in study.trials)
