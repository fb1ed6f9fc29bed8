"""The end of a sweep, for every sweeper: best.yaml, the summary in the log, the report.

The hpsweep sweeper calls these when its loop ends (hpsweep.search.recording); the
Hydra callbacks do for Hydra's basic sweeper and the stock Optuna
sweeper (hpsweep.hydra_callbacks.results and .report). best.yaml and the summary come
from the report's own reading and ranking (hpsweep.report.loading), so the log,
best.yaml and `hpsweep report` name the same trials in the same order.

The report itself (PNGs, report.html) takes seconds to draw: matplotlib, Optuna's
importances, every trial's TensorBoard log read back. In the sweep's own process that
was 5-13% of a 40-trial sweep's wall time, so `start_report` starts
`python -m hpsweep.report.cli report <dir>` as a detached process and returns at once.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from hpsweep.report.loading import Sweep, load_sweep
from hpsweep.report.numbers import VALUE_DIGITS, readable
from hpsweep.report.summary import summary_text
from hpsweep.sweep.results import BEST_FILE, PARETO_COLUMN, RESULTS_FILE, is_objective_column

log = logging.getLogger(__name__)

TOP = 5
REPORT_LOG = "report.log"  # what the background report printed: its summary, or its error


def write_best_and_summary(sweep_dir: Path, script: str, best_yaml: bool = True) -> Path | None:
    """best.yaml (the full composed config of the best finished trial; with several
    objectives, the front: write_front) and the summary in the log; `script` is the
    app's file name for the re-run command. Returns best.yaml's path; None when no
    trial finished (or the sweep wrote no results). `best_yaml=False`: the summary
    only (a PBT sweep writes its own: hpsweep.search.population_schedule)."""
    if not (sweep_dir / RESULTS_FILE).exists():
        return None
    sweep = load_sweep(sweep_dir)
    if sweep.several_objectives:
        return write_front(sweep, script)
    ranked = sweep.ranked()
    if not ranked:
        log.warning("no completed trials in %s: no best.yaml", sweep_dir / RESULTS_FILE)
        return None
    best = ranked[0]
    assert best.job_dir is not None
    log.info("%s", summary_text(sweep, top=TOP))
    if not best_yaml:
        return None
    saved = best.job_dir / ".hydra" / "config.yaml"
    if not saved.is_file():  # Hydra saves none with hydra.output_subdir=null
        log.warning("no best.yaml: trial %s's job folder holds no %s", best.number, saved.name)
        return None
    best_yaml = sweep_dir / BEST_FILE
    shutil.copyfile(saved, best_yaml)
    log.info(
        "best: trial %s, value %s. Re-run it with:\n"
        "  python %s --config-path %s --config-name best",
        best.number,
        readable(best.value, VALUE_DIGITS),
        script,
        sweep_dir.resolve(),
    )
    return best_yaml


def write_front(sweep: Sweep, script: str) -> Path | None:
    """Several objectives: best.yaml lists the Pareto front (results.csv's rows with
    pareto=true): each member's trial number, objectives, job folder and the command
    that trains it again; the summary in the log shows the front. None when no trial
    finished."""
    front = [row for row in sweep.rows if row.get(PARETO_COLUMN) == "true"]
    if not front:
        log.warning("no completed trials in %s: no best.yaml", sweep.path / RESULTS_FILE)
        return None
    names = [c for c in front[0] if is_objective_column(c)]
    members = [
        {
            "number": int(row["number"]),
            "objectives": [float(row[name]) for name in names],
            "job_dir": row["job_dir"],
            "rerun": rerun_command(script, Path(row["job_dir"])),
        }
        for row in sorted(front, key=lambda r: float(r[names[0]]))
    ]
    best_yaml = sweep.path / BEST_FILE
    best_yaml.write_text(yaml.safe_dump({"front": members}, sort_keys=False))
    log.info("%s", summary_text(sweep, top=TOP))
    log.info(
        "the Pareto front: %d trials in %s, with the command that re-runs each",
        len(members),
        best_yaml,
    )
    return best_yaml


def rerun_command(script: str, job_dir: Path) -> str:
    """The command that trains a job's configuration again, from the config it saved."""
    where = ["--config-path", str(job_dir / ".hydra"), "--config-name", "config"]
    return shlex.join(["python", script, *where])


def start_report(sweep_dir: Path, background: bool = True) -> int | None:
    """Draw the report into the sweep folder: by a detached process (returns its pid),
    or, with background=False, here and now (for a script that reads report.html right
    after the sweep)."""
    if not (sweep_dir / RESULTS_FILE).is_file():
        return None
    command = [sys.executable, "-m", "hpsweep.report.cli", "report", str(sweep_dir)]
    if not background:
        from hpsweep.report.cli import main

        main(command[3:])
        return None
    with (sweep_dir / REPORT_LOG).open("wb") as output:
        # Through a shell that starts it in the background and exits at once: the
        # report outlives the sweep without being its child (no zombie to reap, no
        # "subprocess is still running" at exit), in its own session, so a Ctrl-C
        # in the terminal after the sweep has returned does not cut it short.
        shell = subprocess.run(
            ["sh", "-c", '"$@" >&2 & echo $!', "sh", *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=output,
            start_new_session=True,
            check=True,
        )
    page = sweep_dir.resolve() / "report.html"
    log.info("report: drawing in the background into %s (its log: %s)", page, REPORT_LOG)
    return int(shell.stdout)  # the shell printed only that; the report writes its log
