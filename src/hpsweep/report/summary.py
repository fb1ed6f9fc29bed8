"""The report's text: counts per status, epochs saved, the top trials, the pruned apart.

The same text ends every sweep (hpsweep.hydra_callbacks.results) and opens
`hpsweep report`, so both rank alike: finished trials by value (Sweep.ranked, which is
hpsweep.sweep.results.ranked_rows, as best.yaml is chosen). Pruned trials stopped
before the end, so their last value does not compete: they are listed apart.

    sweep multirun/...: 12 trials (5 complete, 1 early_stopped, 6 pruned)
    on disk: 14.2 MB (saved training states: 1.1 MB)
    epochs: 61 run of 108 for every trial to the end (47 saved, 44%, ...)
    top 3 by val/loss (min):
    rank  number  val/loss   status    epochs  seconds  optimizer.lr
    1     1       0.0981753  complete  9       3.3      0.005314
    ...
    pruned (not ranked): trials 2, 3, 7 at epochs 1, 1, 3
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

from hpsweep.report.loading import Sweep, Trial
from hpsweep.report.numbers import VALUE_DIGITS, readable
from hpsweep.sweep.results import format_table, is_objective_column
from hpsweep.sweep.saved_state import STATE_DIR


def epochs_saved(sweep: Sweep) -> tuple[int, int] | None:
    """(epochs run, epochs that running every trial to the end would have taken); with
    repeats, over every repeat's job."""
    if sweep.max_epochs is None:
        return None
    ran = sum(t.epochs * t.jobs for t in sweep.trials)
    if sweep.pbt:  # a row is a segment: every member to the end is the whole budget
        return ran, sweep.max_epochs * len({row["member"] for row in sweep.rows})
    return ran, sweep.max_epochs * sum(t.jobs for t in sweep.trials)


def counts_text(trials: list[Trial]) -> str:
    counts = Counter(t.status for t in trials)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def value_text(trial: Trial) -> str:
    """The trial's value; with repeats, mean ± sd over its seeds and how many."""
    value = readable(trial.value, VALUE_DIGITS)
    if trial.repeats is None:
        return value
    # Two digits of the sd: it is itself uncertain, and says how far the mean is.
    sd = f" ± {readable(trial.value_sd, 2)}" if math.isfinite(trial.value_sd) else ""
    return f"{value}{sd} (n={trial.repeats})"


def ranked_table(sweep: Sweep, top: int) -> str:
    """The first `top` trials of the one ranking, as a text table; with repeats the
    value is the mean ± sd over seeds. Parameters show rounded (results.csv has them
    whole)."""
    rows = [
        {
            "rank": rank,
            "number": t.number,
            sweep.metric: value_text(t),
            "status": t.status,
            "epochs": t.epochs,
            "seconds": f"{t.seconds:.1f}",
            **{name: readable(value) for name, value in t.params.items()},
        }
        for rank, t in enumerate(sweep.ranked()[:top], start=1)
    ]
    columns = ["rank", "number", sweep.metric, "status", "epochs", "seconds", *sweep.params]
    return format_table(rows, columns)


def pruned_line(sweep: Sweep, most: int = 20) -> str | None:
    pruned = sweep.pruned()
    if not pruned:
        return None
    shown = pruned[:most]
    more = f" and {len(pruned) - most} more" if len(pruned) > most else ""
    return (
        f"pruned (not ranked): trials {', '.join(str(t.number) for t in shown)}{more} "
        f"at epochs {', '.join(str(t.epochs) for t in shown)}"
    )


def disk_line(folder: Path) -> str:
    """The sweep folder's size, and the part of it that is trials' saved training
    states (a finished trial's is removed unless hydra.sweeper.keep_state: what stays
    is what resume needs)."""
    total = states = 0
    # os.walk, not Path.rglob: rglob keeps every path it yielded in a set, which at
    # 10,000 trials (50,000 files) was most of the end of the sweep's peak memory.
    for root, _, files in os.walk(folder):
        in_states = os.path.basename(root) == STATE_DIR
        for name in files:
            try:
                size = os.stat(os.path.join(root, name)).st_size
            except OSError:  # removed while we walk (a trial's state), or a broken link
                continue
            total += size
            states += size if in_states else 0
    return f"on disk: {human_bytes(total)} (saved training states: {human_bytes(states)})"


def human_bytes(size: int) -> str:
    """1536 -> '1.5 kB': decimal units, as `du --si` and file managers show them."""
    if size < 1000:
        return f"{size} B"
    value, unit = size / 1000, "kB"
    for larger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, larger
    return f"{value:.1f} {unit}"


def front_text(sweep: Sweep) -> str:
    """Several objectives: the Pareto front (results.csv's pareto=true), by the first."""
    names = [c for c in sweep.rows[0] if is_objective_column(c)]
    front = sorted(
        (r for r in sweep.rows if r.get("pareto") == "true"), key=lambda r: float(r[names[0]])
    )
    if not front:
        return "no finished trial on a front yet"
    rows = [
        {"number": r["number"], **{n: readable(float(r[n]), VALUE_DIGITS) for n in names}}
        for r in front
    ]
    return f"the Pareto front ({len(front)} trials):\n" + format_table(rows, ["number", *names])


def summary_text(sweep: Sweep, top: int = 10) -> str:
    lines = [
        f"sweep {sweep.path}: {len(sweep.trials)} trials ({counts_text(sweep.trials)})",
        disk_line(sweep.path),
    ]
    saved = epochs_saved(sweep)
    if saved is not None:
        ran, full = saved
        share = 1 - ran / full if full else 0.0
        lines.append(
            f"epochs: {ran} run of {full} for every trial to the end "
            f"({full - ran} saved, {share:.0%}, by early stopping and pruning)"
        )
    ranked = sweep.ranked()
    if sweep.several_objectives:
        lines.append(front_text(sweep))
    elif ranked:
        lines.append(f"top {min(top, len(ranked))} by {sweep.metric} ({sweep.mode}):")
        lines.append(ranked_table(sweep, top))
    else:
        lines.append("no finished trial yet")
    pruned = pruned_line(sweep)
    if pruned:
        lines.append(pruned)
    return "\n".join(lines)
