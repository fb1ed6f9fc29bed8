"""The end of a sweep, from its results.csv: best.yaml and the summary in the log.

One function for every sweeper: the hpsweep sweeper calls it when its loop ends, the
results callback (hpsweep.hydra_callbacks.results) when Hydra's basic sweeper or the
stock Optuna sweeper ends. For a digits sweep of train.py the log then shows

    6 trials (4 complete, 2 pruned); top trials by val/loss:
    number  status    value  epochs  seconds  optimizer.lr
    3       complete  0.091  30      4.1      0.0021
    ...
    best: trial 3, value 0.091. Re-run it with:
      python train.py --config-path /abs/sweep/dir --config-name best
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from pathlib import Path

from hpsweep.sweep.results import (
    BEST_FILE,
    RESULTS_FILE,
    format_table,
    parameter_columns,
    ranked_rows,
    read_results,
)

log = logging.getLogger(__name__)

TOP = 5
# What the summary's table shows of each trial, before its searched keys.
SUMMARY_COLUMNS = ("number", "status", "value", "epochs", "seconds")


def write_best_and_summary(sweep_dir: Path, mode: str, metric: str, script: str) -> Path | None:
    """best.yaml (the full composed config of the best finished trial) and the top
    trials in the log; `script` is the app's file name for the re-run command. Returns
    best.yaml's path, None when no trial finished (or the sweep wrote no results)."""
    path = sweep_dir / RESULTS_FILE
    if not path.exists():
        return None
    header, rows = read_results(path)
    ranked = ranked_rows(rows, mode)
    if not ranked:
        log.warning("no completed trials in %s: no best.yaml", path)
        return None
    best = ranked[0]
    best_yaml = sweep_dir / BEST_FILE
    shutil.copyfile(Path(best["job_dir"]) / ".hydra" / "config.yaml", best_yaml)
    counts = Counter(row["status"] for row in rows)
    log.info(
        "%d trials (%s); top trials by %s:\n%s",
        len(rows),
        ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
        metric,
        format_table(ranked[:TOP], [*SUMMARY_COLUMNS, *parameter_columns(header)]),
    )
    log.info(
        "best: trial %s, value %s. Re-run it with:\n"
        "  python %s --config-path %s --config-name best",
        best["number"],
        best["value"],
        script,
        sweep_dir.resolve(),
    )
    return best_yaml
