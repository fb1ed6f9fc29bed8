"""`hpsweep report <sweep dir>`: the console script of pyproject.toml."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hpsweep.report.loading import NotASweepError, load_sweep
from hpsweep.report.plots import write_plots
from hpsweep.report.summary import summary_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hpsweep", description="hpsweep's tools")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="a sweep's top trials and plots")
    report.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir)")
    report.add_argument("--top", type=int, default=10, help="trials in the table")
    report.add_argument("--no-plots", action="store_true", help="the table only")
    args = parser.parse_args(argv)

    try:
        sweep = load_sweep(args.sweep_dir)
    except NotASweepError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(summary_text(sweep, top=args.top))
    if not args.no_plots:
        for path in write_plots(sweep):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
