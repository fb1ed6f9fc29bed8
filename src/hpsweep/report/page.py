"""report.html: the whole report as one self-contained page, to share a sweep as one file.

The page holds the counts per status, the command that reproduces the best trial, a
table of every trial (ranked ones first, in the one ranking; then pruned, then the
rest), sortable by clicking a column's header, and the PNGs embedded as data URIs. No
file or network fetch: it opens from an e-mail attachment as it does from the sweep.

A link can carry the order: `report.html#sort=epochs` sorts by epochs, ascending;
`#sort=-epochs` descending.
"""

from __future__ import annotations

import base64
import html
import math
import shlex
from pathlib import Path

import yaml

from hpsweep.report.loading import Sweep, Trial
from hpsweep.report.numbers import VALUE_DIGITS, readable
from hpsweep.report.summary import counts_text, epochs_saved
from hpsweep.sweep.results import BEST_FILE

PAGE_FILE = "report.html"

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; background: #fff; }
code, pre { font: 13px ui-monospace, monospace; background: #f4f4f4; }
pre { padding: .6em; overflow-x: auto; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: right; }
th { cursor: pointer; background: #f4f4f4; position: sticky; top: 0; user-select: none; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
td.text { text-align: left; }
tr.pruned td { color: #b35900; } tr.diverged td, tr.failed td { color: #b00; }
tr.best td { font-weight: bold; }
img { max-width: 100%; display: block; margin: 1em 0; border: 1px solid #eee; }
"""

# Sorting: numbers by value (data-sort), the rest as text; empty cells last.
SCRIPT = """
function sortBy(table, column, descending) {
  const body = table.tBodies[0];
  const key = (row) => row.cells[column].dataset.sort ?? row.cells[column].textContent;
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === "" || y === "") return (x === "") - (y === "");
    const nx = Number(x), ny = Number(y);
    const order = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;
    return descending ? -order : order;
  });
  rows.forEach((row) => body.appendChild(row));
  Array.from(table.tHead.rows[0].cells).forEach((th, i) => th.setAttribute(
    "aria-sort", i === column ? (descending ? "descending" : "ascending") : "none"));
}
const table = document.getElementById("trials");
const headers = Array.from(table.tHead.rows[0].cells);
headers.forEach((th, i) => th.addEventListener("click", () =>
  sortBy(table, i, th.getAttribute("aria-sort") === "ascending")));
const wanted = /^#sort=(-?)(.+)$/.exec(decodeURIComponent(location.hash));
if (wanted) {
  const column = headers.findIndex((th) => th.dataset.key === wanted[2]);
  if (column >= 0) sortBy(table, column, wanted[1] === "-");
}
"""


def page_order(sweep: Sweep) -> list[Trial]:
    """Ranked trials best first, then the pruned, then the rest, each by number."""
    ranked = sweep.ranked()
    pruned = sweep.pruned()
    shown = {t.number for t in [*ranked, *pruned]}
    rest = sorted((t for t in sweep.trials if t.number not in shown), key=lambda t: t.number)
    return [*ranked, *pruned, *rest]


def reproduce_commands(sweep: Sweep, best: Trial) -> list[str]:
    """Shell commands that train the best trial again: its overrides on the app; and,
    where the sweep wrote it, its full config (best.yaml)."""
    commands = []
    overrides_file = best.job_dir / ".hydra" / "overrides.yaml" if best.job_dir else None
    if overrides_file is not None and overrides_file.is_file():
        overrides = yaml.safe_load(overrides_file.read_text()) or []
        commands.append(shlex.join(["python", f"{sweep.job_name}.py", *overrides]))
    if (sweep.path / BEST_FILE).is_file() and not sweep.several_objectives:
        app = ["python", f"{sweep.job_name}.py"]
        where = ["--config-path", str(sweep.path.resolve()), "--config-name", Path(BEST_FILE).stem]
        commands.append(shlex.join([*app, *where]))
    return commands


def _cell(text: str, sort: float | None = None) -> str:
    if sort is None:
        return f'<td class="text">{html.escape(text)}</td>'
    key = "" if math.isnan(sort) else repr(sort)
    return f'<td data-sort="{key}">{html.escape(text)}</td>'


def _number_or_text(text: str) -> str:
    """A parameter's cell: rounded to read, sorted by its full value."""
    try:
        return _cell(readable(text), float(text))
    except ValueError:
        return _cell(text)


def _value_text(trial: Trial) -> str:
    """The value; with repeats, the mean ± sd over its seeds and how many (racing gives
    configurations different numbers of seeds), sorted by the mean."""
    if math.isnan(trial.value):
        return ""
    value = readable(trial.value, VALUE_DIGITS)
    if math.isfinite(trial.value_sd):
        value = f"{value} ± {readable(trial.value_sd, 2)}"
    return value if trial.repeats is None else f"{value} (n={trial.repeats})"


def trials_table(sweep: Sweep) -> str:
    ranks = {t.number: rank for rank, t in enumerate(sweep.ranked(), start=1)}
    columns = ["rank", "number", "status", sweep.metric, "epochs", "seconds", *sweep.params]
    columns.append("reason")
    head = "".join(f'<th data-key="{html.escape(c)}">{html.escape(c)}</th>' for c in columns)
    rows = []
    for trial in page_order(sweep):
        rank = ranks.get(trial.number)
        cells = [
            _cell("" if rank is None else str(rank), math.nan if rank is None else rank),
            _cell(str(trial.number), trial.number),
            _cell(trial.status),
            _cell(_value_text(trial), trial.value),
            _cell(str(trial.epochs), trial.epochs),
            _cell("" if math.isnan(trial.seconds) else f"{trial.seconds:.1f}", trial.seconds),
            *(_number_or_text(trial.params.get(name, "")) for name in sweep.params),
            _cell(trial.reason),
        ]
        classes = f"{trial.status}{' best' if rank == 1 else ''}"
        rows.append(f'<tr class="{classes}" data-number="{trial.number}">{"".join(cells)}</tr>')
    return (
        f'<table id="trials"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def page_html(sweep: Sweep, plots: list[Path], notes: list[str]) -> str:
    title = f"sweep {sweep.path.name}"
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(sweep.trials)} trials ({html.escape(counts_text(sweep.trials))}); "
        f"objective: {html.escape(sweep.mode)} {html.escape(sweep.metric)}.</p>",
    ]
    saved = epochs_saved(sweep)
    if saved is not None:
        parts.append(f"<p>Epochs: {saved[0]} run of {saved[1]} for every trial to the end.</p>")
    ranked = sweep.ranked()
    if ranked:
        best = ranked[0]
        parts.append(
            f"<h2>Best: trial {best.number}, {html.escape(sweep.metric)} "
            f"{readable(best.value, VALUE_DIGITS)}</h2>"
        )
        commands = reproduce_commands(sweep, best)
        if commands:
            parts.append("<p>Train it again:</p>")
            parts.append(f'<pre id="reproduce">{html.escape(chr(10).join(commands))}</pre>')
    else:
        parts.append("<p>No finished trial yet.</p>")
    parts += [f"<p>{html.escape(note)}</p>" for note in notes]
    parts.append("<h2>Trials</h2><p>Click a column's header to sort by it.</p>")
    parts.append(trials_table(sweep))
    parts += [_image(path) for path in plots]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}<script>{SCRIPT}</script></body></html>\n"
    )


def write_page(sweep: Sweep, plots: list[Path], notes: list[str]) -> Path:
    """report.html in the sweep folder, replaced atomically: a reader (or a test that
    waits for it) never sees half a page."""
    path = sweep.path / PAGE_FILE
    tmp = path.with_name(f".{PAGE_FILE}.tmp")
    tmp.write_text(page_html(sweep, plots, notes))
    tmp.replace(path)
    return path
