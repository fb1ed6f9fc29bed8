"""Benchmark: racing against single seeds and fixed repeats, at an equal number of jobs.

On digits with a small validation split (`data.val_fraction=0.05`: about 90 samples, so
val/loss is noisy by design) that each training seed draws anew
(`data.val_seed=${trainer.seed}`: the test split stays fixed, so seeds average the
objective over validation splits as well as initializations), for each sweep seed, with
the default preset's sampler (TPE) over the same space (learning rate, width, weight
decay), `--epochs` epochs a job:

    racing   hydra.sweeper.repeats=adaptive (max_repeats 5, significance 0.1),
             `--configurations` configurations: J jobs, as the race spends them
    single   one seed per configuration, J configurations          (J jobs)
    fixed    hydra.sweeper.repeats=3, J / 3 configurations (rounded) (about J jobs)

Racing runs first; the others get the jobs it used. Each arm is `python train.py -m
hydra/sweeper=tpe ...` in a subprocess. The sweep's pick (results.csv's first-ranked
row, by mean with seeds) is re-trained on 10 fresh seeds (trainer.seed=5000..5009) with
the same test split, in one Hydra multirun from the pick's recorded config; an arm's
score is the mean test/loss over those 10 runs (the held-out test split, not the noisy
validation one). Targets: racing at least as good as each in >= 7 of 10 sweep seeds,
mean gaps (other - racing) > 0.

    nice -n 10 python bench/noisy_selection.py                      # sweep seeds 0-9
    python bench/noisy_selection.py --seeds 0 1 2 3 4 --out rows.jsonl &   # two at once
    python bench/noisy_selection.py --seeds 5 6 7 8 9 --out rows.jsonl
    python bench/noisy_selection.py --rows rows.jsonl               # the lines, from rows
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPACE = [
    "optimizer.lr=tag(log,interval(1e-4,3e-1))",
    "model.width=choice(16,32,64,128)",
    "regularization.weight_decay=tag(log,interval(1e-6,1e-1))",
]
COMMON = [
    "data.val_fraction=0.05",
    "data.val_seed=${trainer.seed}",
    "~callbacks.early_stopping",
    "hydra.sweeper.report=false",
    "trainer.num_threads=1",  # two sweep seeds at once on two cores: --seeds split
]
FRESH_SEEDS = range(5000, 5010)
ARMS = ("racing", "single", "fixed")


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")


def sweep(
    arm: str, seed: int, epochs: int, n_trials: int, work: Path, racing: list[str]
) -> tuple[Path, int, int]:
    """Run one arm's sweep; (its pick's job folder, jobs it ran, epochs they trained)."""
    repeats = {"racing": "adaptive", "single": "1", "fixed": "3"}[arm]
    sweep_dir = work / f"{arm}-{seed}"
    run(
        [
            sys.executable,
            str(REPO / "train.py"),
            "-m",
            "hydra/sweeper=tpe",
            *SPACE,
            *COMMON,
            f"trainer.epochs={epochs}",
            f"trainer.seed={100 * seed}",  # other noise for every sweep seed
            f"hydra.sweeper.seed={seed}",
            f"hydra.sweeper.n_trials={n_trials}",
            f"hydra.sweeper.repeats={repeats}",
            *(racing if arm == "racing" else []),
            f"hydra.sweep.dir={sweep_dir}",
        ],
        work,
    )
    with (sweep_dir / "results.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    ranked = [r for r in rows if r["status"] in ("complete", "early_stopped")]
    ranked.sort(key=lambda r: (float(r["value"]), float(r.get("value_sd") or "inf")))
    records = [json.loads(path.read_text()) for path in sweep_dir.glob("*/metrics.json")]
    consumed = sum(record["epochs"] or 0 for record in records)
    return Path(ranked[0]["job_dir"]), len(records), consumed


def retrain(job_dir: Path, work: Path) -> float:
    """Mean test/loss of the pick's config over the fresh seeds."""
    out = work / f"retrain-{job_dir.parent.name}"
    seeds = ",".join(str(s) for s in FRESH_SEEDS)
    run(
        [
            sys.executable,
            str(REPO / "train.py"),
            "-m",
            "--config-path",
            str(job_dir / ".hydra"),
            "--config-name",
            "config",
            f"trainer.seed={seeds}",
            f"hydra.sweep.dir={out}",
        ],
        work,
    )
    losses = [json.loads(p.read_text())["test/loss"] for p in out.glob("*/metrics.json")]
    assert len(losses) == len(FRESH_SEEDS), out
    return statistics.fmean(losses)


def one_seed(seed: int, epochs: int, configurations: int, racing: list[str]) -> dict:
    """The three arms on one sweep seed: each one's re-trained test loss, jobs, epochs."""
    line: dict = {"seed": seed}
    jobs = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for arm in ARMS:
            n_trials = {"racing": configurations, "single": jobs, "fixed": round(jobs / 3)}[arm]
            clock = time.perf_counter()
            pick, ran, consumed = sweep(arm, seed, epochs, n_trials, work, racing)
            jobs = ran if arm == "racing" else jobs
            test_loss = retrain(pick, work)
            line[arm] = {"test_loss": test_loss, "jobs": ran, "epochs": consumed}
            print(
                f"seed {seed} {arm:7s} {n_trials:3d} configurations, {ran:3d} jobs  pick "
                f"{pick.name}  re-trained test/loss {test_loss:.4f}  "
                f"({time.perf_counter() - clock:.0f} s)",
                flush=True,
            )
    return line


def verdict(lines: list[dict]) -> str:
    """The last line: in how many sweep seeds racing's pick is at least as good as each
    other arm's, and the mean gap (other - racing: positive when racing picked better)."""
    words = []
    for arm, name in (("single", "single seeds"), ("fixed", "fixed repeats")):
        gaps = [line[arm]["test_loss"] - line["racing"]["test_loss"] for line in lines]
        wins = sum(gap >= 0 for gap in gaps)
        words.append((name, wins, statistics.fmean(gaps)))
    (a, wins_a, gap_a), (b, wins_b, gap_b) = words
    return (
        f"racing at equal jobs: at least as good as {a} in {wins_a} of {len(lines)} "
        f"(mean gap {gap_a:+.4f}), as {b} in {wins_b} of {len(lines)} (mean gap {gap_b:+.4f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--configurations", type=int, default=24, help="racing's n_trials")
    parser.add_argument(
        "--racing",
        nargs="*",
        default=[],
        help="racing's own overrides: hydra.sweeper.max_repeats=3",
    )
    parser.add_argument("--until", default=None, help="HH:MM (UTC): start no sweep seed after")
    parser.add_argument("--out", type=Path, default=None, help="append per-seed rows (jsonl)")
    parser.add_argument("--rows", type=Path, default=None, help="print the lines of these rows")
    args = parser.parse_args()
    if args.rows is not None:
        lines = [json.loads(text) for text in args.rows.read_text().splitlines() if text]
        print(verdict(sorted(lines, key=lambda line: line["seed"])))
        return
    lines = []
    for seed in args.seeds:
        if args.until and time.strftime("%H:%M", time.gmtime()) >= args.until:
            print(f"--until {args.until}: stopping before sweep seed {seed}", flush=True)
            break
        lines.append(one_seed(seed, args.epochs, args.configurations, args.racing))
        if args.out:
            with args.out.open("a") as file:
                file.write(json.dumps(lines[-1]) + "\n")
    print(verdict(lines))


if __name__ == "__main__":
    main()
