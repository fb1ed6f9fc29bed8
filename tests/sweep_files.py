"""What a sweep leaves on disk, read back by the tests: its folder and results.csv."""

from __future__ import annotations

import csv
import subprocess
import time
from pathlib import Path


def sweep_dir_of(cwd: Path) -> Path:
    """The one sweep folder `python train.py -m` made under cwd/multirun/<date>/."""
    [sweep] = (cwd / "multirun").glob("*/*")
    return sweep


def results(sweep: Path) -> list[dict[str, str]]:
    """The rows of the sweep's results.csv, in the order its trials ended."""
    with (sweep / "results.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def wait_for_rows(sweep: Path, count: int, process: subprocess.Popen[str]) -> None:
    """Until the running sweep's results.csv has `count` rows (at most 4 minutes)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        results_csv = sweep / "results.csv"
        if results_csv.exists() and len(results_csv.read_text().splitlines()) > count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the sweep never wrote {count} row(s); it exited {process.poll()}")
