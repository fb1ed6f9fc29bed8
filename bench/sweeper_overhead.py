"""Benchmark: the hpsweep sweeper's own cost per trial.

The same 40 trials (random search over the learning rate, seed 0, digits, about 1 s
each on CPU) run in fresh processes: through a hand-written Optuna loop that calls the
same `train` function in one process; through `python train.py -m` with the hpsweep
sweeper (Hydra multirun, journal storage, results.csv, TensorBoard, checkpoints), once
as is and once without the report drawn at the sweep's end (`hydra.sweeper.report=false`);
and with Hydra's stock Optuna sweeper. The report is drawn by a detached process after
the sweep returns: the benchmark waits for it, untimed, before the next contender.
Prints the wall times, their ratios to the hand-written loop (target for hpsweep
<= 1.05x) and the extra milliseconds per trial; then the floor: what a job costs the
sweep when its task trains nothing (a sweep over bench/hydra_start_app.py), against the
milliseconds a trial may cost for 1.05x.

    python bench/sweeper_overhead.py [--trials 40] [--epochs 60]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.05

HAND_WRITTEN = """
import sys, tempfile
from pathlib import Path
import optuna
from hydra import compose, initialize_config_dir
from hpsweep.training.resolvers import register_resolvers
from hpsweep.training import train

register_resolvers()  # conf/ uses them, as train.py does
trials, epochs = int(sys.argv[1]), int(sys.argv[2])
with initialize_config_dir(config_dir=sys.argv[3]):
    base = compose("train", overrides=[f"trainer.epochs={epochs}", "trainer.device=cpu"])
out = Path(tempfile.mkdtemp())

def objective(trial):
    cfg = base.copy()
    cfg.optimizer.lr = trial.suggest_float("optimizer.lr", 1e-4, 1e-1, log=True)
    return train(cfg, out / str(trial.number)).metrics["val/loss"]

optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
study.optimize(objective, n_trials=trials)
print(sum(t.duration.total_seconds() for t in study.trials) / trials)
"""


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    """(wall seconds, what the command printed)."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def floor_per_job(trials: int, work: Path) -> float:
    """Seconds a job costs the sweep when its task returns at once: the hpsweep sweeper
    (Hydra's launcher and run_job around each job, ask/tell, records) over an app that
    trains nothing, less that app's single run, per job."""
    app = str(ROOT / "bench" / "hydra_start_app.py")
    single, _ = timed([sys.executable, app, f"hydra.run.dir={work / 'floor-run'}"], work)
    sweep, _ = timed(
        [
            *(sys.executable, app, "-m", "hydra/sweeper=random", "hydra.sweeper.report=false"),
            *("optimizer.lr=tag(log,interval(1e-4,1e-1))", f"hydra.sweeper.n_trials={trials}"),
            f"hydra.sweep.dir={work / 'floor-sweep'}",
        ],
        work,
    )
    return (sweep - single) / trials


def wait_for_report(sweep: Path, timeout: float = 300) -> float | None:
    """Seconds until the sweep's background report wrote report.html (None: it drew no
    report). Waited for outside the timings, so that its drawing does not slow down
    the next contender."""
    log = sweep / "report.log"
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if not log.is_file():
            return None
        if "report.html" in log.read_text():
            return time.perf_counter() - started
        time.sleep(0.05)
    raise TimeoutError(f"no report.html in {sweep} after {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()

    common = [
        "optimizer.lr=tag(log,interval(1e-4,1e-1))",
        f"hydra.sweeper.n_trials={args.trials}",
        f"trainer.epochs={args.epochs}",
        "trainer.device=cpu",
    ]
    contenders = {
        "python train.py -m, hpsweep sweeper": ["hydra/sweeper=random"],
        "  the same without the end-of-sweep report": [
            "hydra/sweeper=random",
            "hydra.sweeper.report=false",
        ],
        "python train.py -m, stock optuna sweeper": [
            "hydra/sweeper=optuna",
            "hydra/sweeper/sampler=random",
            "hydra.sweeper.sampler.seed=0",
            "hydra.sweeper.n_jobs=1",
        ],
    }
    walls: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "hand_written.py"
        script.write_text(HAND_WRITTEN)
        loop, printed = timed(
            [sys.executable, str(script), str(args.trials), str(args.epochs), str(ROOT / "conf")],
            cwd=work,
        )
        trial_seconds = float(printed.split()[-1])
        report_after = None
        for index, (name, sweeper) in enumerate(contenders.items()):
            sweep = work / f"sweep{index}"
            walls[name], _ = timed(
                [
                    sys.executable,
                    str(ROOT / "train.py"),
                    "-m",
                    *sweeper,
                    *common,
                    f"hydra.sweep.dir={sweep}",
                ],
                cwd=work,
            )
            drawn = wait_for_report(sweep)
            report_after = report_after if drawn is None else drawn
        job_floor = floor_per_job(args.trials, work)
    print(
        f"{args.trials} trials of up to {args.epochs} digits epochs (early stopping on; "
        f"{trial_seconds:.2f} s a trial in the loop), random search over lr, seed 0"
    )
    print(f"{'hand-written Optuna loop, in process':44} {loop:7.1f} s  1.000x")
    for name, wall in walls.items():
        extra = 1000 * (wall - loop) / args.trials
        print(f"{name:44} {wall:7.1f} s  {wall / loop:.3f}x  ({extra:+.0f} ms per trial)")
    if report_after is not None:
        print(f"the background report was done {report_after:.1f} s after the sweep returned")
    ratio = walls["python train.py -m, hpsweep sweeper"] / loop
    print(f"target hpsweep <= {TARGET:.2f}x: {'met' if ratio <= TARGET else 'NOT met'}")
    budget = (TARGET - 1) * loop / args.trials
    print(
        f"a job of a task that trains nothing costs the sweep {1000 * job_floor:.0f} ms "
        f"(bench/hydra_start_app.py, {args.trials} jobs); 1.05x allows {1000 * budget:.0f} ms"
    )


if __name__ == "__main__":
    main()
