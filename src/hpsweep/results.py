"""results.csv: one row per trial, appended as each trial ends, for every sweeper.

A Hydra callback (`RecordResults`) does the writing, so Hydra's basic sweeper, the
stock Optuna sweeper and ours all leave the same file. It runs where the job runs
(in process, or in a launcher's worker), so rows are appended under a file lock.

    number,status,value,epochs,seconds,job_dir,<one column per searched parameter>,reason

At the end of a sweep it writes best.yaml, the full composed config of the best
trial, and logs the top trials.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import logging
import math
import shutil
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from hpsweep.hparams import parse
from hpsweep.interruption import signal_of
from hpsweep.sweep_config import is_dry_run, searched_parameters, sweep_overrides

log = logging.getLogger(__name__)

RESULTS_FILE = "results.csv"
BEST_FILE = "best.yaml"
LEADING_COLUMNS = ("number", "status", "value", "epochs", "seconds", "job_dir")
TRAILING_COLUMNS = ("reason",)
# Statuses whose value counts for "best": the trial trained as long as it meant to.
FINISHED = ("complete", "early_stopped")


def override_values(overrides: list[str]) -> dict[str, str]:
    """key -> value text of a job's (concrete) overrides."""
    return {o.get_key_element(): o.get_value_element_as_str() for o in parse(overrides)}


def read_results(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(the header, the rows) of a results.csv."""
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one row under an exclusive lock; writes the header first if the file is new."""
    with path.open("a+", newline="") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            file.seek(0)
            header = next(csv.reader(file), None)
            if header is None:
                raise FileNotFoundError(f"{path} has no header: was the sweep started?")
            buffer = io.StringIO()
            csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore").writerow(row)
            file.seek(0, io.SEEK_END)
            file.write(buffer.getvalue())
            file.flush()
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def job_row(config: DictConfig, job_return: JobReturn) -> dict[str, Any]:
    """The results.csv row of one finished job."""
    output_dir = Path(config.hydra.runtime.output_dir)
    row: dict[str, Any] = {"number": config.hydra.job.num, "job_dir": str(output_dir)}
    row.update(override_values(list(config.hydra.overrides.task)))
    metrics_file = output_dir / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    if job_return.status == JobStatus.FAILED:
        error = job_return._return_value
        if isinstance(error, KeyboardInterrupt):
            reason = f"interrupted by {signal_of(error)[0]}"
        else:
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
        row.update(status="failed", reason=reason)
        return row
    value = job_return.return_value
    row.update(
        status=metrics.get("status", "complete"),
        value=value,
        epochs=metrics.get("epochs", ""),
        seconds=round(metrics["seconds"], 3) if "seconds" in metrics else "",
    )
    return row


def best_row(rows: list[dict[str, str]], mode: str) -> dict[str, str] | None:
    """The finished trial with the best finite value (lowest for mode "min")."""
    candidates = [r for r in rows if r["status"] in FINISHED and _finite(r["value"])]
    if not candidates:
        return None
    pick = min if mode == "min" else max
    return pick(candidates, key=lambda r: float(r["value"]))


def top_rows(rows: list[dict[str, str]], mode: str, count: int = 5) -> list[dict[str, str]]:
    scored = [r for r in rows if _finite(r["value"])]
    return sorted(scored, key=lambda r: float(r["value"]), reverse=(mode == "max"))[:count]


def format_table(rows: list[dict[str, str]], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


class RecordResults(Callback):
    """Writes results.csv as trials end, best.yaml and a summary when the sweep ends."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        path = Path(config.hydra.sweep.dir) / RESULTS_FILE
        if is_dry_run(config) or path.exists():  # a resumed sweep keeps its rows
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        params = searched_parameters(sweep_overrides(config))
        with path.open("w", newline="") as file:
            csv.writer(file).writerow([*LEADING_COLUMNS, *params, *TRAILING_COLUMNS])

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        path = Path(config.hydra.sweep.dir) / RESULTS_FILE
        if not path.exists():
            return
        append_row(path, job_row(config, job_return))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        path = sweep_dir / RESULTS_FILE
        if not path.exists():
            return
        header, rows = read_results(path)
        mode = OmegaConf.select(config, "objective.mode", default="min")
        best = best_row(rows, mode)
        if best is None:
            log.warning("no completed trials in %s: no best.yaml", path)
            return
        shutil.copyfile(Path(best["job_dir"]) / ".hydra" / "config.yaml", sweep_dir / BEST_FILE)
        columns = [c for c in header if c not in ("job_dir", "reason")]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        log.info(
            "%d trials (%s); top trials by %s:\n%s",
            len(rows),
            ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
            OmegaConf.select(config, "objective.metric", default="value"),
            format_table(top_rows(rows, mode), columns),
        )
        log.info(
            "best: trial %s, value %s. Re-run it with:\n"
            "  python %s --config-path %s --config-name best",
            best["number"],
            best["value"],
            Path(config.hydra.job.name + ".py").name,
            sweep_dir.resolve(),
        )
