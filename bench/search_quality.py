"""Benchmark: search quality against the field (issue 30).

The same problems and the same budget for hpsweep's presets (through the real sweeper),
Optuna alone, Syne Tune, Ray Tune and SMAC3. Each run gets 20 full evaluations' worth
of steps (epochs), counted by one ledger for every method (bench/quality/ledger.py);
the score is the normalized regret of the incumbent, the best value seen at the full
fidelity (bench/quality/regret.py), at 1x, 3x, 10x and 20x a full evaluation, and its
mean over log(budget) (the area). Per problem a table (mean over seeds), then mean
ranks over problems, a plot of regret against budget, and the last line

    default preset: mean normalized regret <x> (rank <r> of <k>); best peer <name> <y>;
    optuna alone <z>

(one line), with x for `hydra/sweeper=hyperband` (hpsweep's preset for anything
trained in epochs), y for the best method of another library, z for Optuna's own
HyperbandPruner with its TPESampler, as an Optuna user sets them up; each the mean over
problems of the mean over seeds of the regret at the whole budget.

Problems: mf-prior-bench's MF-Hartmann `mfh3` and `mfh6` (formulas: fast, offline).
Seeds: seed s seeds the problem's noise and, through numpy's SeedSequence, every
method's own seed (independent streams: no two seeds start alike).

The peers pin numpy < 2 (mf-prior-bench) and ray[tune]: the bench runs in a venv of its
own, bench/.venv-quality, which it builds on first use (`pip install -e .[bench]`, a
minute or two) and re-runs itself in. Traces are kept in bench/.quality-traces/ (one
JSON file per problem, method and seed), so a later run reuses them.

    python bench/search_quality.py --quick          # 3 seeds, 7 methods: <= 10 minutes
    python bench/search_quality.py --seeds 20 --plot docs/search-quality.png
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv-quality"
TRACES = ROOT / "bench" / ".quality-traces"
BUDGET = 20  # full evaluations' worth of steps
MARKS = (1, 3, 10, 20)  # budgets reported, in full evaluations
DEFAULT = "hpsweep hyperband"
OPTUNA_ALONE = "optuna hyperband+TPE"
QUICK_METHODS = (
    DEFAULT,
    "hpsweep tpe (-m default)",
    OPTUNA_ALONE,
    "syne-tune ASHA",
    "syne-tune BOHB",
    "ray-tune ASHA",
    "SMAC3 Hyperband",
)


def in_bench_venv() -> None:
    """Re-run this script in bench/.venv-quality, building it first when needed."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    stamp = VENV / ".installed"
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        print(f"building {VENV.relative_to(ROOT)} (once; a minute or two)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        # The CPU build of torch, as the Makefile installs it (a bare torch is CUDA's).
        subprocess.run([*pip, os.environ.get("TORCH", "torch==2.13.0")], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[bench]"], check=True)
        stamp.touch()
    os.execv(python, [str(python), __file__, *sys.argv[1:]])


def all_methods() -> dict:
    from bench.quality import hpsweep_methods, ray_tune_methods, smac_methods, syne_tune_methods

    return {
        **hpsweep_methods.METHODS,
        **syne_tune_methods.METHODS,
        **ray_tune_methods.METHODS,
        **smac_methods.METHODS,
    }


def method_seed(seed: int) -> int:
    import numpy as np

    return int(np.random.SeedSequence(seed).generate_state(1)[0] % 2**31)


def trace_path(problem: str, method: str, seed: int) -> Path:
    return TRACES / problem / method.replace(" ", "_").replace("/", "-") / f"{seed}.json"


def run_one(problem_name: str, method: str, seed: int) -> tuple[str, str, int, float]:
    """One run, its events written to its trace file; returns its wall time."""
    from bench.quality.ledger import Ledger
    from bench.quality.problems import make_problem

    problem = make_problem(problem_name, seed)
    ledger = Ledger(problem, BUDGET * problem.max_step)
    started = time.perf_counter()
    all_methods()[method](problem, method_seed(seed), ledger)
    seconds = time.perf_counter() - started
    events = [[e.cost, e.step, e.value] for e in ledger.events]
    path = trace_path(problem_name, method, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"problem": problem_name, "method": method, "seed": seed, "seconds": seconds}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**record, "events": events}))
    tmp.replace(path)  # a run cut short leaves no trace to reuse
    return problem_name, method, seed, seconds


def run_missing(runs: list[tuple[str, str, int]], jobs: int) -> None:
    missing = [run for run in runs if not trace_path(*run).exists()]
    print(f"{len(runs) - len(missing)} runs kept, {len(missing)} to run", file=sys.stderr)
    # spawn: Ray and SMAC's dask do not survive a fork of a process that imported them.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = [pool.submit(run_one, *run) for run in missing]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            problem, method, seed, seconds = future.result()
            print(
                f"[{done}/{len(missing)}] {problem} {method} seed {seed}: {seconds:.1f}s",
                file=sys.stderr,
            )


def load_curves(problems, methods, seeds) -> dict:
    """{problem: {method: [incumbent curve per seed]}} from the kept traces."""
    from bench.quality.ledger import Event
    from bench.quality.problems import MAX_STEP
    from bench.quality.regret import incumbent_curve

    curves: dict = {}
    for problem in problems:
        for method in methods:
            for seed in seeds:
                record = json.loads(trace_path(problem, method, seed).read_text())
                events = [Event(int(c), int(s), float(v)) for c, s, v in record["events"]]
                curve = incumbent_curve(events, MAX_STEP)
                curves.setdefault(problem, {}).setdefault(method, []).append(curve)
    return curves


def scales(problems) -> dict:
    """{problem: the problem at seed 0}: its `best` and `typical`, the ends of the
    normalized regret, do not depend on the seed (typical costs 1,000 evaluations)."""
    from bench.quality.problems import make_problem

    return {problem: make_problem(problem, 0) for problem in problems}


def scores(curves: dict, scale_of: dict) -> dict:
    """{problem: {method: {"1x": ..., ..., "area": ..., "per_seed": [...]}}}."""
    from bench.quality.problems import MAX_STEP
    from bench.quality.regret import area, mean, regret_at

    table: dict = {}
    for problem, scale in scale_of.items():
        for method, per_seed in curves[problem].items():
            row = {}
            for mark in MARKS:
                values = [
                    regret_at(c, mark * MAX_STEP, scale.best, scale.typical) for c in per_seed
                ]
                row[f"{mark}x"] = mean(values)
                if mark == BUDGET:
                    row["per_seed"] = values
            row["area"] = mean(
                [area(c, scale.best, scale.typical, MAX_STEP, BUDGET * MAX_STEP) for c in per_seed]
            )
            table.setdefault(problem, {})[method] = row
    return table


def print_tables(table: dict, n_seeds: int) -> None:
    from bench.quality.regret import mean_ranks

    for problem, rows in table.items():
        print(f"\n{problem}: mean normalized regret over {n_seeds} seeds at k full evaluations")
        print("| method | " + " | ".join(f"{m}x" for m in MARKS) + " | area |")
        print("|---|" + "---|" * (len(MARKS) + 1))
        for method, row in sorted(rows.items(), key=lambda item: item[1][f"{BUDGET}x"]):
            cells = " | ".join(f"{row[f'{m}x']:.3f}" for m in MARKS)
            print(f"| {method} | {cells} | {row['area']:.3f} |")
    ranks = mean_ranks(
        {p: {m: r[f"{BUDGET}x"] for m, r in rows.items()} for p, rows in table.items()}
    )
    print("\nmean rank over problems (regret at the whole budget):")
    for method, rank in sorted(ranks.items(), key=lambda item: item[1]):
        print(f"  {rank:4.2f}  {method}")


def paired_test(table: dict, a: str, b: str) -> str:
    """Wilcoxon's signed-rank test over (problem, seed) pairs of whole-budget regrets."""
    from scipy.stats import wilcoxon

    x = [v for rows in table.values() for v in rows[a]["per_seed"]]
    y = [v for rows in table.values() for v in rows[b]["per_seed"]]
    if all(u == v for u, v in zip(x, y, strict=True)):
        return f"{a} vs {b}: identical on every pair"
    p = wilcoxon(x, y).pvalue
    return f"{a} vs {b}: paired Wilcoxon p = {p:.3g} over {len(x)} (problem, seed) pairs"


def plot(curves: dict, scale_of: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bench.quality.problems import MAX_STEP
    from bench.quality.regret import mean, regret_at

    budgets = [MAX_STEP * (BUDGET ** (i / 100)) for i in range(101)]
    figure, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4.5), squeeze=False)
    for axis, (problem, by_method) in zip(axes[0], curves.items(), strict=True):
        scale = scale_of[problem]
        axis.set_prop_cycle(color=plt.cm.tab20.colors)  # a colour for each of ~12 methods
        for method, per_seed in sorted(by_method.items()):
            line = [
                mean([regret_at(c, b, scale.best, scale.typical) for c in per_seed])
                for b in budgets
            ]
            style = "-" if method.startswith("hpsweep") else "--"
            axis.plot([b / MAX_STEP for b in budgets], line, style, label=method)
        axis.set(
            xscale="log",
            xlabel="budget (full evaluations)",
            ylabel="mean normalized regret",
            title=problem,
        )
        axis.grid(True, alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def overall(table: dict) -> dict[str, float]:
    """Each method's mean over problems of its mean regret at the whole budget."""
    from bench.quality.regret import mean

    methods = next(iter(table.values()))
    return {m: mean([rows[m][f"{BUDGET}x"] for rows in table.values()]) for m in methods}


def best_peer(scores: dict[str, float]) -> str:
    """The best method of another library (neither hpsweep's nor Optuna's own)."""
    peers = [m for m in scores if not m.startswith(("hpsweep", "optuna"))]
    return min(peers, key=scores.__getitem__)


def last_line(scores: dict[str, float]) -> str:
    from bench.quality.regret import ranks

    rank, peer = ranks(scores), best_peer(scores)
    return (
        f"default preset: mean normalized regret {scores[DEFAULT]:.3f} "
        f"(rank {rank[DEFAULT]:g} of {len(scores)}); best peer {peer} {scores[peer]:.3f}; "
        f"optuna alone {scores[OPTUNA_ALONE]:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, the 7 main methods")
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 (default 20)")
    parser.add_argument("--problems", nargs="+", default=["mfh3", "mfh6"])
    parser.add_argument("--methods", nargs="+", help="default: every method (--quick: 7)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    parser.add_argument("--plot", type=Path, help="write the regret plot here")
    args = parser.parse_args()
    in_bench_venv()
    sys.path.insert(0, str(ROOT))
    methods = args.methods or (list(QUICK_METHODS) if args.quick else list(all_methods()))
    seeds = list(range(3 if args.quick else args.seeds))
    unknown = sorted(set(methods) - set(all_methods()))
    if unknown:
        parser.error(f"unknown methods {unknown}: choose from {sorted(all_methods())}")
    runs = [(p, m, s) for p in args.problems for m in methods for s in seeds]
    run_missing(runs, args.jobs)
    curves = load_curves(args.problems, methods, seeds)
    scale_of = scales(args.problems)
    table = scores(curves, scale_of)
    print_tables(table, len(seeds))
    if args.plot:
        plot(curves, scale_of, args.plot)
    if DEFAULT in methods and OPTUNA_ALONE in methods:
        means = overall(table)
        print(paired_test(table, DEFAULT, best_peer(means)))
        print(paired_test(table, DEFAULT, OPTUNA_ALONE))
        print(last_line(means))


if __name__ == "__main__":
    main()
