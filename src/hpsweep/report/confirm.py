"""`hpsweep confirm <sweep dir> --top 3 --seeds 5`: believe a sweep's winner only after
re-training the leaders on fresh seeds.

The top configurations of results.csv's one ranking (hpsweep.sweep.results.ranked_rows:
by value, with repeats by mean, ties by the lower sd) each run again `--seeds` times
through the same app, from the full config their job recorded:

    python <app>.py --config-path <job>/.hydra --config-name config \\
        <seed_key>=<seed> hydra.run.dir=<sweep>/confirm/<rank>-<number>/seed_<seed>

one subprocess per run (`--jobs` at once), the app found beside the config folder it was
composed from (or given with `--app`). The seeds are fresh: `--seed-start` (1000) on,
never the ones the sweep trained (its seed_key's value plus 0..repeats-1). Each run's
value is read from the metrics.json it writes (train.py always does): the objective,
or `--metric test/loss` for another recorded metric.

It prints, and writes into <sweep>/confirm.csv, per configuration: mean ± sd over the
seeds and a 95% t-interval (mean ± t(0.975, n-1)·sd/√n), best first by mean. Then the
verdict: the winner (best mean) against the runner-up by Welch's two-sided t-test
(unequal variances) at the 5% level: "distinguishable" when p < 0.05, else not (more
seeds, or treat them as equal).

    rank  number  sweep   mean ± sd        95% interval      n  optimizer.lr
    1     9       0.1486  0.1402 ± 0.0151  [0.1215, 0.159]   5  0.004312
    2     0       0.1506  0.1437 ± 0.017   [0.1226, 0.1648]  5  0.004417
    winner: trial 9 vs runner-up trial 0: not distinguishable (Welch's t-test p = 0.74)
"""

from __future__ import annotations

import csv
import math
import statistics
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from hpsweep.report.loading import Sweep, Trial
from hpsweep.report.numbers import readable
from hpsweep.sweep.outcome import FINISHED, OUTCOME_FILE, TrialOutcome
from hpsweep.sweep.results import format_table

CONFIRM_DIR = "confirm"
CONFIRM_FILE = "confirm.csv"
LEVEL = 0.95


class ConfirmError(ValueError):
    """A sweep that cannot be confirmed: the message is one line for the user."""


@dataclass(frozen=True)
class Confirmed:
    """One configuration re-trained on fresh seeds."""

    rank: int  # in the sweep's ranking
    trial: Trial
    seeds: tuple[int, ...]
    values: tuple[float | None, ...]  # per seed; None: the run failed or diverged

    @property
    def finished(self) -> list[float]:
        return [v for v in self.values if v is not None]

    @property
    def mean(self) -> float:
        values = self.finished
        return math.fsum(values) / len(values) if values else math.nan

    @property
    def sd(self) -> float:
        values = self.finished
        return statistics.stdev(values) if len(values) > 1 else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return t_interval(self.finished)


def t_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """The two-sided t-interval of the mean of `values` (NaNs with fewer than 2)."""
    if len(values) < 2:
        return math.nan, math.nan
    from scipy import stats

    mean = math.fsum(values) / len(values)
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * statistics.stdev(values)
    half /= math.sqrt(len(values))
    return mean - half, mean + half


def welch_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of Welch's t-test (unequal variances); NaN if it cannot tell."""
    if len(a) < 2 or len(b) < 2:
        return math.nan
    from scipy import stats

    if statistics.stdev(a) == 0 and statistics.stdev(b) == 0:
        return 1.0 if statistics.fmean(a) == statistics.fmean(b) else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def seed_key_of(sweep: Sweep) -> tuple[str, int]:
    """(the seed key, the first seed that is not the sweep's): from multirun.yaml."""
    config = OmegaConf.load(sweep.path / "multirun.yaml")
    key = OmegaConf.select(config, "hydra.sweeper.seed_key", default=None) or "trainer.seed"
    return key, 1000


def find_app(job_dir: Path, job_name: str) -> Path | None:
    """The app's script: `<job name>.py` beside or above the primary config folder the
    job was composed from, or in the folder it ran in."""
    hydra_file = job_dir / ".hydra" / "hydra.yaml"
    if not hydra_file.is_file():
        return None
    hydra = OmegaConf.load(hydra_file).hydra
    places = []
    for source in OmegaConf.select(hydra, "runtime.config_sources", default=[]) or []:
        if source.get("provider") == "main" and source.get("schema") == "file":
            config_dir = Path(str(source.path))
            places += [config_dir, config_dir.parent]
    places.append(Path(OmegaConf.select(hydra, "runtime.cwd", default=".")))
    for place in places:
        if (place / f"{job_name}.py").is_file():
            return place / f"{job_name}.py"
    return None


def run_command(app: Path, job_dir: Path, seed_key: str, seed: int, run_dir: Path) -> list[str]:
    return [
        sys.executable,
        str(app),
        "--config-path",
        str((job_dir / ".hydra").resolve()),
        "--config-name",
        "config",
        f"{seed_key}={seed}",
        f"hydra.run.dir={run_dir.resolve()}",
    ]


def run_value(command: list[str], run_dir: Path, metric: str | None) -> float | None:
    """Train once; its value from the metrics.json it wrote (None: failed, diverged)."""
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    outcome = TrialOutcome.read(run_dir) if (run_dir / OUTCOME_FILE).is_file() else None
    if outcome is None or outcome.status not in FINISHED:
        return None
    value = outcome.value if metric is None else outcome.metrics.get(metric)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def confirm(
    sweep: Sweep,
    top: int = 3,
    seeds: int = 5,
    seed_start: int | None = None,
    metric: str | None = None,
    app: Path | None = None,
    jobs: int = 1,
) -> list[Confirmed]:
    """Re-train the sweep's `top` configurations on `seeds` fresh seeds each."""
    if sweep.pbt:  # a segment's config alone trains from epoch 1 with its last values
        raise ConfirmError(
            f"{sweep.path} is a PBT sweep: its winner is a schedule; replay it on fresh "
            f"seeds with python train.py --config-path {sweep.path} --config-name best "
            "trainer.seed=<seed>"
        )
    ranked = sweep.ranked()[:top]
    if not ranked:
        raise ConfirmError(f"{sweep.path} has no finished trial to confirm")
    seed_key, default_start = seed_key_of(sweep)
    start = default_start if seed_start is None else seed_start
    fresh = tuple(range(start, start + seeds))
    work: list[tuple[int, int, list[str], Path]] = []
    for rank, trial in enumerate(ranked, start=1):
        assert trial.job_dir is not None
        script = app or find_app(trial.job_dir, sweep.job_name)
        if script is None:
            raise ConfirmError(
                f"cannot find {sweep.job_name}.py of {sweep.path}: name it with --app"
            )
        for seed in fresh:
            run_dir = sweep.path / CONFIRM_DIR / f"{rank}-{trial.number}" / f"seed_{seed}"
            command = run_command(script, trial.job_dir, seed_key, seed, run_dir)
            work.append((rank, seed, command, run_dir))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        values = list(pool.map(lambda w: run_value(w[2], w[3], metric), work))
    by_rank: dict[int, list[float | None]] = {}
    for (rank, _, _, _), value in zip(work, values, strict=True):
        by_rank.setdefault(rank, []).append(value)
    return [
        Confirmed(rank, trial, fresh, tuple(by_rank[rank]))
        for rank, trial in enumerate(ranked, start=1)
    ]


def by_mean(results: list[Confirmed], mode: str) -> list[Confirmed]:
    """Best confirmed mean first (configurations with no finished run last)."""
    sign = -1 if mode == "max" else 1
    return sorted(results, key=lambda c: (math.isnan(c.mean), sign * c.mean if c.finished else 0.0))


def verdict(results: list[Confirmed], mode: str) -> str:
    """Whether the best confirmed mean is distinguishable from the second best."""
    ordered = by_mean(results, mode)
    if len(ordered) < 2:
        return "one configuration: nothing to compare"
    winner, runner_up = ordered[0], ordered[1]
    p = welch_p(winner.finished, runner_up.finished)
    if math.isnan(p):
        word = "cannot tell (fewer than 2 finished runs each)"
    elif p < 1 - LEVEL:
        word = f"distinguishable (Welch's t-test p = {readable(p, 2)} < {readable(1 - LEVEL, 2)})"
    else:
        word = (
            f"not distinguishable (Welch's t-test p = {readable(p, 2)}): "
            "more seeds, or call it a tie"
        )
    kept = "" if winner.rank == 1 else f" (the sweep ranked it {winner.rank})"
    return (
        f"winner: trial {winner.trial.number}{kept} vs runner-up trial "
        f"{runner_up.trial.number}: {word}"
    )


def rows_of(results: list[Confirmed], sweep: Sweep) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for c in by_mean(results, sweep.mode):
        low, high = c.interval
        rows.append(
            {
                "rank": c.rank,
                "number": c.trial.number,
                "sweep_value": c.trial.value,
                "mean": c.mean,
                "sd": c.sd,
                "ci_low": low,
                "ci_high": high,
                "n": len(c.finished),
                "failed": len(c.values) - len(c.finished),
                "seeds": ";".join(str(s) for s in c.seeds),
                "values": ";".join("" if v is None else repr(v) for v in c.values),
                **c.trial.params,
            }
        )
    return rows


def write_confirm(results: list[Confirmed], sweep: Sweep) -> Path:
    rows = rows_of(results, sweep)
    path = sweep.path / CONFIRM_FILE
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def confirm_text(results: list[Confirmed], sweep: Sweep, metric: str | None) -> str:
    # confirm.csv keeps every digit; the table shows 4, enough to compare means whose
    # intervals are far wider than the 4th digit.
    table = [
        {
            "rank": r["rank"],
            "number": r["number"],
            "sweep": readable(r["sweep_value"]),
            "mean ± sd": f"{readable(r['mean'])} ± {readable(r['sd'])}",
            "95% interval": f"[{readable(r['ci_low'])}, {readable(r['ci_high'])}]",
            "n": r["n"],
            **{p: readable(r.get(p, "")) for p in sweep.params},
        }
        for r in rows_of(results, sweep)
    ]
    columns = ["rank", "number", "sweep", "mean ± sd", "95% interval", "n", *sweep.params]
    seeds = results[0].seeds
    head = (
        f"confirm {sweep.path}: top {len(results)} re-trained on seeds "
        f"{seeds[0]}..{seeds[-1]}, {metric or sweep.metric} ({sweep.mode}), best mean first"
    )
    return "\n".join([head, format_table(table, columns), verdict(results, sweep.mode)])
