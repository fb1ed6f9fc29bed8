"""results.csv: one row per trial, appended as each trial ends, for every sweeper.

    number,status,value,epochs,seconds,started,finished,job_dir,<searched keys>,reason,<metrics>

With repeats (hydra.sweeper.repeats > 1) a row is one configuration over its seeds:
`value` is the mean, and `value_sd,repeats,values` follow it (the sample sd, how many
repeats finished, each repeat's value joined by `;`); `number` and `job_dir` are the
first repeat's job (hpsweep.search.repeats).

The columns between job_dir and reason are the sweep's searched keys
(hpsweep.sweep.spec), written in the header when the sweep starts; a row's status,
value, epochs, seconds and reason are the job's outcome record
(hpsweep.sweep.outcome), never re-derived. The columns after reason are the outcome's
extra metrics (train.py's val/acc, test/acc, ...; what an app records with
`SweepTrial.record(name, value)`): a name no earlier row had is added at the end of
the header, the file rewritten atomically (earlier rows leave it empty). Rows are
appended under a file lock on a lock file beside it, since launcher workers in other
processes append too and a rewrite replaces the file.
"""

from __future__ import annotations

import csv
import fcntl
import io
import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from hpsweep.sweep.outcome import FINISHED, TrialOutcome

RESULTS_FILE = "results.csv"
BEST_FILE = "best.yaml"
LEADING_COLUMNS = ("number", "status", "value", "epochs", "seconds", "started", "finished")
LEADING_COLUMNS += ("job_dir",)
TRAILING_COLUMNS = ("reason",)
# After `value` in a sweep with repeats > 1.
REPEAT_COLUMNS = ("value_sd", "repeats", "values")
# After `value` in a PBT sweep (hydra/sweeper=pbt), where a row is one segment of a
# member: which member, which of its segments, its epochs, and the member whose state
# it started from (empty: it continued its own).
PBT_COLUMNS = ("member", "segment", "from_epoch", "to_epoch", "exploited_from")
# After `value` with several objectives: objective_1 .. objective_k (`value` is the
# first), then `pareto`: true for the trials of the front, written when the sweep ends.
OBJECTIVE_PREFIX = "objective_"
PARETO_COLUMN = "pareto"
# Names an extra metric cannot take: they are the row's own columns.
RESERVED_COLUMNS = frozenset(
    {
        *LEADING_COLUMNS,
        *REPEAT_COLUMNS,
        *PBT_COLUMNS,
        *TRAILING_COLUMNS,
        "pruned_at",
        PARETO_COLUMN,
    }
)
FINISHED_WORDS = tuple(str(status) for status in FINISHED)


def objective_columns(objectives: int) -> list[str]:
    """objective_1 .. objective_k: none with one objective."""
    return [f"{OBJECTIVE_PREFIX}{i}" for i in range(1, objectives + 1)] if objectives > 1 else []


def is_objective_column(column: str) -> bool:
    return column.startswith(OBJECTIVE_PREFIX) and column[len(OBJECTIVE_PREFIX) :].isdigit()


def header(
    parameters: list[str], repeats: bool = False, objectives: int = 1, pbt: bool = False
) -> list[str]:
    after_value = [*(REPEAT_COLUMNS if repeats else ()), *(PBT_COLUMNS if pbt else ())]
    after_value += objective_columns(objectives)
    after_value += [PARETO_COLUMN] if objectives > 1 else []
    at = LEADING_COLUMNS.index("value") + 1
    leading = [*LEADING_COLUMNS[:at], *after_value, *LEADING_COLUMNS[at:]]
    return [*leading, *parameters, *TRAILING_COLUMNS]


def start_results(
    path: Path,
    parameters: list[str],
    repeats: bool = False,
    objectives: int = 1,
    pbt: bool = False,
) -> None:
    """Write the header of a new results.csv; a resumed sweep keeps its file and rows."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        csv.writer(file).writerow(header(parameters, repeats, objectives, pbt))


def outcome_row(
    number: int, job_dir: Path | None, overrides: list[str], outcome: TrialOutcome
) -> dict[str, Any]:
    """The results.csv row of one finished job: its number, folder, the values its
    overrides set, and its outcome record."""
    seconds = "" if outcome.seconds is None else round(outcome.seconds, 3)
    return {
        **outcome.metrics,  # first: a searched key of the same name wins
        "number": number,
        "job_dir": "" if job_dir is None else str(job_dir),
        **override_values(overrides),
        "status": str(outcome.status),
        "value": "" if outcome.value is None else outcome.value,
        "epochs": "" if outcome.epochs is None else outcome.epochs,
        "seconds": seconds,
        "started": outcome.started,
        "finished": outcome.finished,
        "reason": outcome.reason,
        **dict(
            zip(objective_columns(len(outcome.values or ())), outcome.values or (), strict=True)
        ),
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


def parameter_columns(header: list[str]) -> list[str]:
    """The searched keys of a results.csv header: between the leading columns and
    reason (the metric columns come after reason)."""
    end = header.index("reason") if "reason" in header else len(header)
    own = {*LEADING_COLUMNS, *REPEAT_COLUMNS, *PBT_COLUMNS, PARETO_COLUMN}
    return [c for c in header[:end] if c not in own and not is_objective_column(c)]


def append_row(path: Path, row: dict[str, Any], metrics: Iterable[str] = ()) -> None:
    """Append one row under an exclusive lock; the header was written at sweep start.
    `metrics` names the row's metric columns: one the header lacks is added first."""
    with _rows_locked(path):
        columns = _header_of(path)
        new = [m for m in dict.fromkeys(metrics) if m not in columns]
        if new:
            columns = _add_columns(path, new)
        buffer = io.StringIO()
        csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore").writerow(row)
        with path.open("a", newline="") as file:
            file.write(buffer.getvalue())


@contextmanager
def _rows_locked(path: Path) -> Iterator[None]:
    """An exclusive lock on results.csv's rows, on a lock file beside it (launcher
    workers in other processes append too, and a rewrite replaces the file)."""
    with path.with_name(f".{path.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _header_of(path: Path) -> list[str]:
    with path.open(newline="") as file:
        columns = next(csv.reader(file), None)
    if columns is None:
        raise FileNotFoundError(f"{path} has no header: was the sweep started?")
    return columns


def _add_columns(path: Path, new: list[str]) -> list[str]:
    """Rewrite results.csv with `new` columns at the end of its header, atomically: a
    reader sees the old file or the new one, never half of one."""
    columns, rows = read_results(path)
    columns = [*columns, *new]
    _write_rows(path, columns, rows)
    return columns


def _write_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def pareto_flags(points: list[list[float]], directions: list[str]) -> list[bool]:
    """Which points no other dominates (at least as good in every objective, better
    in one); `directions` minimize/maximize per objective."""
    signs = [1.0 if d == "minimize" else -1.0 for d in directions]
    signed = [[v * s for v, s in zip(point, signs, strict=True)] for point in points]

    def dominates(a: list[float], b: list[float]) -> bool:
        return all(x <= y for x, y in zip(a, b, strict=True)) and a != b

    return [not any(dominates(other, point) for other in signed) for point in signed]


def mark_pareto(path: Path, directions: list[str]) -> list[dict[str, str]]:
    """Fill results.csv's `pareto` column (true: on the front of the finished trials,
    false: a finished trial off it; empty otherwise), atomically, under the rows' lock.
    Returns the front's rows."""
    with _rows_locked(path):
        columns, rows = read_results(path)
        names = objective_columns(len(directions))
        finished = [
            r for r in rows if r["status"] in FINISHED_WORDS and all(_finite(r[n]) for n in names)
        ]
        flags = pareto_flags([[float(r[n]) for n in names] for r in finished], directions)
        for row in rows:
            row[PARETO_COLUMN] = ""
        for row, on_front in zip(finished, flags, strict=True):
            row[PARETO_COLUMN] = "true" if on_front else "false"
        _write_rows(path, columns, rows)
    return [row for row, on_front in zip(finished, flags, strict=True) if on_front]


def ended_within(rows: list[dict[str, str]], epochs: int) -> tuple[list[dict[str, str]], int]:
    """The rows of the trials that ended while the epochs they trained, added up in the
    order they ended, stay within `epochs`; and those epochs. How the benches read a
    sweep at a budget (bench/pareto.py, bench/pbt.py)."""
    spent, within = 0, []
    for row in sorted(rows, key=lambda r: r["finished"]):
        trained = int(row["epochs"] or 0)
        if spent + trained > epochs:
            break
        spent += trained
        within.append(row)
    return within, spent


def ranked_rows(rows: list[dict[str, str]], mode: str) -> list[dict[str, str]]:
    """Finished trials (complete, early-stopped) with a value, best first; with repeats,
    by mean, ties by the lower value_sd; other ties keep the order in which the trials
    ended. The one ranking of the summary, best.yaml and the report."""
    finished = [r for r in rows if r["status"] in FINISHED_WORDS and _finite(r["value"])]
    sign = -1 if mode == "max" else 1

    def key(row: dict[str, str]) -> tuple[float, float]:
        sd = row.get("value_sd") or ""
        return sign * float(row["value"]), float(sd) if _finite(sd) else math.inf

    return sorted(finished, key=key)


def sweep_mode(config: DictConfig) -> str:
    """min or max: the app's objective.mode when it has one (train.py), else the
    direction of the sweeper (hydra.sweeper.direction), else min."""
    mode = OmegaConf.select(config, "objective.mode", default=None)
    if mode in ("min", "max"):
        return mode
    direction = OmegaConf.select(
        config, "hydra.sweeper.direction", default=None, throw_on_resolution_failure=False
    )
    return "max" if direction == "maximize" else "min"


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
