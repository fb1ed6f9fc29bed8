"""`hpsweep report` on real sweeps of every kind: finished, pruned, grid, still running."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from optuna.importance import get_param_importances

from hpsweep.report import load_sweep
from hpsweep.report.plots import as_study
from tests.conftest import FinishedSweep
from tests.sweep_files import assert_records_agree, results


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


SHARED_SWEEPS = ("tpe_sweep", "hyperband_sweep", "grid_sweep")


@pytest.mark.parametrize(
    "fixture",
    [
        pytest.param(f, marks=pytest.mark.xdist_group(f.removesuffix("_sweep")))
        for f in SHARED_SWEEPS
    ],
)
def test_report_of_a_finished_sweep(fixture: str, request: pytest.FixtureRequest) -> None:
    finished: FinishedSweep = request.getfixturevalue(fixture)
    sweep = finished.path
    assert "created in memory" not in finished.stdout  # the report's own study
    rows = assert_records_agree(sweep)
    # written automatically at the end of the sweep
    assert {p.name for p in sweep.glob("*.png")} >= {"history.png", "objective_vs_lr.png"}

    shown = report(sweep, "--top", "3")
    assert shown.returncode == 0, shown.stderr
    table = shown.stdout.split("top ", 1)[1].splitlines()[2:5]  # after the title and header
    assert [line.split()[0] for line in table] == top_numbers_in_results(sweep, 3)
    counts = Counter(r["status"] for r in rows)
    assert (
        f"{len(rows)} trials (" + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        in shown.stdout
    )
    if fixture == "hyperband_sweep":
        # epochs run against every trial to the end, from results.csv's own epochs
        ran = sum(int(r["epochs"]) for r in rows)
        assert f"epochs: {ran} run of {9 * len(rows)}" in shown.stdout
        assert counts["pruned"] > 0
    plots = {p.name: png_size(p) for p in sweep.glob("*.png")}
    expected = {"history.png", "objective_vs_lr.png", "learning_curves.png"}
    if fixture == "tpe_sweep":  # two searched parameters: importances mean something
        expected |= {"importances.png", "parallel_coordinates.png"}
        importances = get_param_importances(as_study(load_sweep(sweep)))
        assert set(importances) == {"optimizer.lr", "model.width"}
        assert sum(importances.values()) == pytest.approx(1.0)
    assert set(plots) >= expected
    assert all(width >= 300 and height >= 200 for width, height in plots.values())


@pytest.mark.xdist_group("tpe")
def test_report_without_plots(tpe_sweep: FinishedSweep, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tpe_sweep.path, tmp_path / "sweep"))
    for png in copy.glob("*.png"):
        png.unlink()
    shown = report(copy, "--no-plots")
    assert shown.returncode == 0, shown.stderr
    assert "top " in shown.stdout
    assert list(copy.glob("*.png")) == []


def test_a_folder_that_is_not_a_sweep(tmp_path: Path) -> None:
    shown = report(tmp_path)
    assert shown.returncode == 1
    assert shown.stderr.strip() == f"Error: {tmp_path} is not a sweep folder: it has no results.csv"
