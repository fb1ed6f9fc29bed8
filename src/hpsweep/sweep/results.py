"""results.csv: one row per trial, appended as each trial ends, for every sweeper.

    number,status,value,epochs,seconds,started,finished,job_dir,<searched keys...>,reason

The columns after job_dir are the sweep's searched keys (hpsweep.sweep.spec); a row's
status, value, epochs, seconds and reason are the job's outcome record
(hpsweep.sweep.outcome), never re-derived. Rows are appended under a file lock, since
launcher workers in other processes append too.
"""

from __future__ import annotations

import csv
import fcntl
import io
import math
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser

from hpsweep.sweep.outcome import FINISHED, TrialOutcome

RESULTS_FILE = "results.csv"
BEST_FILE = "best.yaml"
LEADING_COLUMNS = ("number", "status", "value", "epochs", "seconds", "started", "finished")
LEADING_COLUMNS += ("job_dir",)
TRAILING_COLUMNS = ("reason",)
FINISHED_WORDS = tuple(str(status) for status in FINISHED)


def header(parameters: list[str]) -> list[str]:
    return [*LEADING_COLUMNS, *parameters, *TRAILING_COLUMNS]


def start_results(path: Path, parameters: list[str]) -> None:
    """Write the header of a new results.csv; a resumed sweep keeps its file and rows."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        csv.writer(file).writerow(header(parameters))


def outcome_row(
    number: int, job_dir: Path, overrides: list[str], outcome: TrialOutcome
) -> dict[str, Any]:
    """The results.csv row of one finished job: its number, folder, the values its
    overrides set, and its outcome record."""
    seconds = "" if outcome.seconds is None else round(outcome.seconds, 3)
    return {
        "number": number,
        "job_dir": str(job_dir),
        **override_values(overrides),
        "status": str(outcome.status),
        "value": "" if outcome.value is None else outcome.value,
        "epochs": "" if outcome.epochs is None else outcome.epochs,
        "seconds": seconds,
        "started": outcome.started,
        "finished": outcome.finished,
        "reason": outcome.reason,
    }


def override_values(overrides: list[str]) -> dict[str, str]:
    """key -> value text of a job's (concrete) overrides."""
    parsed = OverridesParser.create().parse_overrides(overrides=list(overrides))
    return {o.get_key_element(): o.get_value_element_as_str() for o in parsed}


def read_results(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(the header, the rows) of a results.csv."""
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one row under an exclusive lock; the header was written at sweep start."""
    with path.open("a+", newline="") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            file.seek(0)
            columns = next(csv.reader(file), None)
            if columns is None:
                raise FileNotFoundError(f"{path} has no header: was the sweep started?")
            buffer = io.StringIO()
            csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore").writerow(row)
            file.seek(0, io.SEEK_END)
            file.write(buffer.getvalue())
            file.flush()
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def ranked_rows(rows: list[dict[str, str]], mode: str) -> list[dict[str, str]]:
    """Finished trials (complete, early-stopped) with a value, best first; ties keep the
    order in which the trials ended. The one ranking of the summary, best.yaml and the
    report."""
    finished = [r for r in rows if r["status"] in FINISHED_WORDS and _finite(r["value"])]
    return sorted(finished, key=lambda r: float(r["value"]), reverse=(mode == "max"))


def best_row(rows: list[dict[str, str]], mode: str) -> dict[str, str] | None:
    """The finished trial with the best value (lowest for mode "min")."""
    ranked = ranked_rows(rows, mode)
    return ranked[0] if ranked else None


def format_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
