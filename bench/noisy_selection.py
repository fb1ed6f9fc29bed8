"""Benchmark: does averaging over seeds pick better configurations from a noisy objective?

On digits with a small validation split (`data.val_fraction=0.05`: about 90 samples, so
val/loss is noisy by design) that each training seed draws anew
(`data.val_seed=${trainer.seed}`: the test split stays fixed, so repeats average the
objective over 3 validation splits as well as 3 initializations — with a fixed split
they averaged away only the initialization, and the split's own noise stayed), for
each sweep seed, at an equal budget of epochs:

    (a) random search, 1 seed per configuration, 24 configurations
    (b) random search, hydra.sweeper.repeats=3, 8 configurations
    (c) Hyperband, 1 seed per configuration, 24 configurations
    (d) Hyperband, repeats=3, 8 configurations

Each arm is `python train.py -m hydra/sweeper=<random|hyperband> ...` in a subprocess
over the same space (learning rate, width, weight decay), `--epochs` epochs at most per
job; (a) and (b) spend the same 24 x epochs epochs, (c) and (d) what their pruner lets
them (printed). The sweep's pick (results.csv's first-ranked row, by mean with repeats)
is then re-trained on 10 fresh seeds (trainer.seed=5000..5009), all with the same
test split, in one Hydra multirun from the pick's recorded config; we compare the mean
test/loss over those 10 runs (the held-out test split, not the noisy validation one).

Prints, per sweep seed, each arm's pick and its re-trained mean test loss; then in
how many sweep seeds (b)'s pick is at least as good as (a)'s (target: >= 7 of 10) and
the mean gap (a - b: positive when repeats picked better); the same for (d) vs (c).

    nice -n 10 python bench/noisy_selection.py --seeds 0 1 2 3 4 5 6 7 8 9
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
]
FRESH_SEEDS = range(5000, 5010)
ARMS = {
    "a random x1": ("random", 24, 1),
    "b random x3": ("random", 8, 3),
    "c hyperband x1": ("hyperband", 24, 1),
    "d hyperband x3": ("hyperband", 8, 3),
}


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")


def sweep(arm: str, seed: int, epochs: int, work: Path) -> tuple[Path, int]:
    """Run one arm's sweep; (its pick's job folder, epochs it consumed)."""
    sweeper, n_trials, repeats = ARMS[arm]
    sweep_dir = work / f"{arm.split()[0]}-{seed}"
    run(
        [
            sys.executable,
            str(REPO / "train.py"),
            "-m",
            f"hydra/sweeper={sweeper}",
            *SPACE,
            *COMMON,
            f"trainer.epochs={epochs}",
            f"trainer.seed={100 * seed}",  # other noise for every sweep seed
            f"hydra.sweeper.seed={seed}",
            f"hydra.sweeper.n_trials={n_trials}",
            f"hydra.sweeper.repeats={repeats}",
            f"hydra.sweep.dir={sweep_dir}",
        ],
        work,
    )
    with (sweep_dir / "results.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    ranked = [r for r in rows if r["status"] in ("complete", "early_stopped")]
    ranked.sort(key=lambda r: (float(r["value"]), float(r.get("value_sd") or "inf")))
    consumed = sum(
        json.loads(path.read_text())["epochs"] or 0 for path in sweep_dir.glob("*/metrics.json")
    )
    return Path(ranked[0]["job_dir"]), consumed


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--arms", nargs="+", default=["a", "b", "c", "d"])
    parser.add_argument("--until", default=None, help="HH:MM (UTC): start no sweep seed after")
    parser.add_argument("--out", type=Path, default=None, help="append per-seed rows (jsonl)")
    args = parser.parse_args()
    arms = [a for a in ARMS if a.split()[0] in args.arms]
    results: dict[str, dict[int, float]] = {a: {} for a in arms}
    for seed in args.seeds:
        if args.until and time.strftime("%H:%M", time.gmtime()) >= args.until:
            print(f"--until {args.until}: stopping before sweep seed {seed}", flush=True)
            break
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            line = {"seed": seed}
            for arm in arms:
                clock = time.perf_counter()
                pick, consumed = sweep(arm, seed, args.epochs, work)
                test_loss = retrain(pick, work)
                results[arm][seed] = test_loss
                line[arm] = {"test_loss": test_loss, "epochs": consumed}
                print(
                    f"seed {seed} {arm:15s} epochs {consumed:4d}  pick {pick.parent.name}/"
                    f"{pick.name}  re-trained test/loss {test_loss:.4f}  "
                    f"({time.perf_counter() - clock:.0f} s)",
                    flush=True,
                )
            if args.out:
                with args.out.open("a") as file:
                    file.write(json.dumps(line) + "\n")
    for single, repeated in (("a random x1", "b random x3"), ("c hyperband x1", "d hyperband x3")):
        if single not in results or repeated not in results:
            continue
        seeds = sorted(results[single].keys() & results[repeated].keys())
        gaps = [results[single][s] - results[repeated][s] for s in seeds]
        wins = sum(g >= 0 for g in gaps)
        print(
            f"{repeated} vs {single}: repeats' pick at least as good in {wins} of "
            f"{len(seeds)} sweep seeds; mean gap (single - repeats) "
            f"{statistics.fmean(gaps):+.4f} test/loss"
        )


if __name__ == "__main__":
    main()
