"""population.png: a PBT sweep's members, their hyperparameters and their curves.

Left, the lineage: each member's searched value over the epochs (the first numeric
parameter, log-scaled when it was searched so), one colour per member, a marker where a
segment exploited another member (its line starts again from that member's state).
Right, the members' curves: the objective per epoch from each member's TensorBoard run
(`<sweep>/member_<m>`), which its segments continued one after another.
"""

from __future__ import annotations

from typing import Any

from hpsweep.report.loading import Sweep
from hpsweep.report.plots import _value_scale, tensorboard_curve
from hpsweep.sweep.channel import MEMBER_DIR


def lineage_parameter(sweep: Sweep) -> str | None:
    """The parameter the lineage shows: the first searched one with numbers."""
    return next((name for name in sweep.params if sweep.numeric(name)), None)


def draw_population(sweep: Sweep, figure: Any) -> None:
    lineage, curves = figure.subplots(1, 2)
    name = lineage_parameter(sweep)
    members = sorted({int(row["member"]) for row in sweep.rows})
    for member in members:
        colour = f"C{member % 10}"
        rows = sorted(
            (r for r in sweep.rows if int(r["member"]) == member), key=lambda r: int(r["segment"])
        )
        if name is not None:
            for row in rows:
                value = float(row[name])
                span = (int(row["from_epoch"]) - 1, int(row["to_epoch"]))
                lineage.plot(span, (value, value), color=colour, linewidth=2)
                if row["exploited_from"]:
                    lineage.plot(span[0], value, marker="v", color=colour, markersize=7)
        curve = tensorboard_curve(sweep.path / MEMBER_DIR.format(member), sweep.metric)
        if curve:
            curves.plot(*zip(*curve, strict=True), color=colour, label=f"member {member}")
    lineage.plot([], [], "v", color="0.4", label="exploited another member")
    if name is not None:
        if name in sweep.log_scaled:
            lineage.set_yscale("log")
        lineage.set_ylabel(name)
    lineage.set_xlabel("epoch")
    lineage.legend(fontsize="small")
    lineage.set_title("each member's hyperparameter over epochs")
    values = [line.get_ydata() for line in curves.get_lines()]
    flat = [float(v) for ys in values for v in ys]
    if flat:
        curves.set_yscale(_value_scale(flat))
    curves.set_xlabel("epoch")
    curves.set_ylabel(sweep.metric)
    curves.legend(fontsize="small")
    curves.set_title(f"{sweep.metric} per epoch, one run per member")
