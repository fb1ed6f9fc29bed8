"""The report's text: top trials, counts per status, epochs saved."""

from __future__ import annotations

from collections import Counter

from hpsweep.report.loading import Sweep
from hpsweep.sweep.results import format_table


def epochs_saved(sweep: Sweep) -> tuple[int, int] | None:
    """(epochs run, epochs that running every trial to the end would have taken)."""
    if sweep.max_epochs is None:
        return None
    ran = sum(t.epochs for t in sweep.trials)
    return ran, sweep.max_epochs * len(sweep.trials)


def summary_text(sweep: Sweep, top: int = 10) -> str:
    counts = Counter(t.status for t in sweep.trials)
    lines = [
        f"sweep {sweep.path}: {len(sweep.trials)} trials ("
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        + ")"
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
    if not ranked:
        lines.append("no finished trial yet")
        return "\n".join(lines)
    rows = [
        {
            "number": t.number,
            sweep.metric: f"{t.value:.6g}",
            "status": t.status,
            "epochs": t.epochs,
            "seconds": f"{t.seconds:.1f}",
            **t.params,
        }
        for t in ranked[:top]
    ]
    columns = ["number", sweep.metric, "status", "epochs", "seconds", *sweep.params]
    lines.append(f"top {len(rows)} by {sweep.metric} ({sweep.mode}):")
    lines.append(format_table(rows, columns))
    return "\n".join(lines)
