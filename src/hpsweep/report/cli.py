"""`hpsweep report <sweep dir>`: the console script of pyproject.toml.

Prints the summary, then writes the PNGs and report.html into the sweep folder (the
page last: once it exists, the report is whole). A sweep's end runs the same command
in a detached process (hpsweep.hydra_callbacks.report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hpsweep.report.loading import NotASweepError, load_sweep
from hpsweep.report.summary import summary_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hpsweep", description="hpsweep's tools")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="a sweep's top trials, plots and report.html")
    report.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir)")
    report.add_argument("--top", type=int, default=10, help="trials in the table")
    report.add_argument("--no-plots", action="store_true", help="the table only")
    confirm = commands.add_parser(
        "confirm", help="re-train the top configurations on fresh seeds: mean ± sd, 95%% interval"
    )
    confirm.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir)")
    confirm.add_argument("--top", type=int, default=3, help="configurations to re-train")
    confirm.add_argument("--seeds", type=int, default=5, help="fresh seeds per configuration")
    confirm.add_argument("--seed-start", type=int, default=None, help="first fresh seed (1000)")
    confirm.add_argument("--metric", default=None, help="a metric of metrics.json (objective)")
    confirm.add_argument("--app", type=Path, default=None, help="the app's script")
    confirm.add_argument("--jobs", type=int, default=1, help="runs at once")
    args = parser.parse_args(argv)
    if args.command == "confirm":
        return confirm_main(args)

    try:
        sweep = load_sweep(args.sweep_dir)
    except NotASweepError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(summary_text(sweep, top=args.top))
    if args.no_plots:
        return 0
    # Imported here: matplotlib and Optuna's plotting cost a second the table does not need.
    from hpsweep.report.page import write_page
    from hpsweep.report.plots import importance_note, write_plots

    plots = write_plots(sweep)
    note = importance_note(sweep)
    if note and plots:
        print(note)
    for path in [*plots, write_page(sweep, plots, [note] if note else [])]:
        print(f"wrote {path}")
    return 0


def confirm_main(args: argparse.Namespace) -> int:
    from hpsweep.report.confirm import ConfirmError, confirm, confirm_text, write_confirm

    for name in ("top", "seeds", "jobs"):
        if getattr(args, name) < 1:
            print(f"Error: --{name} must be >= 1", file=sys.stderr)
            return 1
    try:
        sweep = load_sweep(args.sweep_dir)
        results = confirm(
            sweep, args.top, args.seeds, args.seed_start, args.metric, args.app, args.jobs
        )
    except (NotASweepError, ConfirmError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(confirm_text(results, sweep, args.metric))
    print(f"wrote {write_confirm(results, sweep)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
