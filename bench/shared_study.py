"""Benchmark: many sweep processes on one PostgreSQL study, coordination cost per trial.

What scaling out looks like to the study: N worker processes (2 to 32) share one study
in a real PostgreSQL server (Debian's binaries, as the tests use; a Unix socket),
through hpsweep's `process_storage` (one storage a process, as a sweep opens it). Each
process makes, for every trial, the storage calls the hpsweep sweeper and its job make,
through the sweeper's own objects where they are its own: `TrialAsker` asks (it reads
the whole study only near n_trials, to count the claimed places; a trial asked beyond
them is told FAIL as surplus), the trial is tagged with its job; the job loads the study
(on the process's storage) and its trial and reads the steps already reported, then
reports each epoch and asks the pruner (Hyperband, 1 to 9 epochs); the trial's status is
tagged, the study told, and `SweepProgress` updates the progress line (a whole-study
read at most every 10 s). Epochs *sleep* (`--epoch-seconds`, 1 s), so a 2-core machine
hosts 32 workers honestly: the trials wait, the storage does not. With shorter epochs 32
workers keep 2 cores busy and the wall time measures the CPU queue, so each row also
prints the worker's own CPU time per trial and how busy the machine was.

Coordination cost = the seconds a trial spends in those calls (sleeps excluded). Every
run is checked: exactly n_trials trials finish (COMPLETE or PRUNED), none is left
RUNNING, no trial is run by two processes, and every other ask was told FAIL as surplus.
Prints, per N, the median and 95th percentile of the per-trial cost and its growth
against 2 workers.

    python bench/shared_study.py [--workers 2 4 8 16 32] [--trials-per-worker 4]
                                 [--epoch-seconds 1.0]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from hpsweep.search.bookkeeping import JOB_ATTR, STATUS_ATTR  # noqa: E402
from hpsweep.search.progress import SweepProgress  # noqa: E402
from hpsweep.search.study import TrialAsker  # noqa: E402
from hpsweep.sweep.storage import make_storage, process_storage  # noqa: E402
from hpsweep.sweep.trial import open_trial  # noqa: E402
from tests.postgres_server import running_postgres  # noqa: E402

EPOCHS = 9


class CallClock:
    """Seconds one trial spends in storage calls: wall (waiting for the database, its
    locks and a CPU included) and this process's own CPU."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    @contextmanager
    def timing(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu


def worker(url: str, name: str, n_trials: int, epoch_seconds: float, start: Any, out: Any) -> None:
    """One sweep process: puts (trial numbers it ran, each one's CallClock) on `out`, or
    the error it stopped with (the bench stops at once instead of waiting for it)."""
    try:
        out.put(sweep_process(url, name, n_trials, epoch_seconds, start))
    except BaseException as error:
        out.put(f"{type(error).__name__}: {error}")
        raise


def sweep_process(
    url: str, name: str, n_trials: int, epoch_seconds: float, start: Any
) -> tuple[list[int], list[CallClock]]:
    """One sweep process's trials: the numbers it ran, and each one's coordination cost."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(
        study_name=name, storage=process_storage(url), sampler=optuna.samplers.RandomSampler()
    )
    ran: list[int] = []
    clocks: list[CallClock] = []
    start.wait(timeout=300)
    # The sweeper's own: the asker reads the whole study only near n_trials, the progress
    # line at most every 10 s (hpsweep.search.study, hpsweep.search.tally).
    ask = TrialAsker(study, n_trials)
    progress = SweepProgress(n_trials, stream=io.StringIO())
    while True:
        clock = CallClock()
        with clock.timing():
            trial = ask()
            if trial is None:  # n_trials are claimed, by this process or others
                break
            x = trial.suggest_float("x", 0.0, 1.0)
            trial.set_user_attr(JOB_ATTR, trial.number)
            job_trial = job_opens(url, name, trial.number)
        state, loss = TrialState.COMPLETE, 1.0
        for epoch in range(1, EPOCHS + 1):
            time.sleep(epoch_seconds)  # training: not coordination
            loss = (x - 0.3) ** 2 + 1.0 / (1 + epoch * (0.2 + x))
            with clock.timing():
                job_trial.report(loss, epoch)
                pruned = job_trial.should_prune()
            if pruned:
                state = TrialState.PRUNED
                break
        with clock.timing():
            word = state.name.lower()
            trial.set_user_attr(STATUS_ATTR, word)
            value = loss if state == TrialState.COMPLETE else None
            study.tell(trial, value, state=state)
            progress.trial_ended(study, trial.number, word, value)
        clocks.append(clock)
        ran.append(trial.number)
    return ran, clocks


def job_opens(url: str, name: str, number: int) -> optuna.Trial:
    """What a job does before its first report (hpsweep.sweep.trial.SweepTrial): its
    trial opened by hpsweep's own `open_trial`, then the steps the study holds already."""
    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS)
    trial = open_trial(url, name, pruner, number)
    trial.storage.get_trial(trial._trial_id)  # the steps reported (a resumed job skips them)
    return trial


def busy_cpu_seconds() -> float:
    """CPU seconds this machine has spent busy since boot, all cores (Linux's /proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def run(url: str, workers: int, trials_per_worker: int, epoch_seconds: float) -> dict[str, float]:
    name = f"shared-{workers}"
    n_trials = workers * trials_per_worker
    optuna.create_study(study_name=name, storage=make_storage(url))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["optuna", "hpsweep.sweep.storage"])
    start, out = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=worker, args=(url, name, n_trials, epoch_seconds, start, out))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    results = [out.get(timeout=900) for _ in processes]
    failed = [result for result in results if isinstance(result, str)]
    if failed:
        for process in processes:
            process.terminate()
        raise SystemExit(f"{len(failed)} of {workers} workers failed; the first: {failed[0]}")
    for process in processes:
        process.join()
    assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]

    ran = [number for numbers, _ in results for number in numbers]
    trials = optuna.load_study(study_name=name, storage=make_storage(url)).get_trials()
    finished = sorted(
        t.number for t in trials if t.state.is_finished() and t.state != TrialState.FAIL
    )
    assert len(ran) == len(set(ran)), "a trial ran in two processes"
    assert sorted(ran) == finished, "a trial lost, or finished by nobody"
    assert len(finished) == n_trials, (len(finished), n_trials)
    assert not [t for t in trials if t.state == TrialState.RUNNING], "a trial left RUNNING"
    clocks = [clock for _, trial_clocks in results for clock in trial_clocks]
    walls = sorted(clock.wall for clock in clocks)
    started = min(t.datetime_start for t in trials if t.datetime_start)
    ended = max(t.datetime_complete for t in trials if t.datetime_complete)
    return {
        "trials": n_trials,
        "surplus": sum(t.state == TrialState.FAIL for t in trials),
        "median": statistics.median(walls),
        "p95": walls[int(0.95 * (len(walls) - 1))],
        "cpu": statistics.median(clock.cpu for clock in clocks),
        "seconds": (ended - started).total_seconds(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--trials-per-worker", type=int, default=4)
    parser.add_argument("--epoch-seconds", type=float, default=1.0)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = {}
    with running_postgres() as server:
        os.environ["PGPASSWORD"] = server.password  # libpq's own, read by every worker
        for n in args.workers:
            busy, began = busy_cpu_seconds(), time.perf_counter()
            rows[n] = run(server.url(), n, args.trials_per_worker, args.epoch_seconds)
            seconds = time.perf_counter() - began  # the workers' start-up included
            rows[n]["busy"] = (busy_cpu_seconds() - busy) / seconds / (os.cpu_count() or 1)
            print(f"{n} workers: {rows[n]['seconds']:.0f} s", file=sys.stderr, flush=True)
    base = rows[args.workers[0]]
    print(
        f"{args.trials_per_worker} trials a worker, Hyperband 1-{EPOCHS} epochs of "
        f"{args.epoch_seconds} s, one PostgreSQL study, {os.cpu_count()} cores"
    )
    print(
        "| workers | trials | surplus asks | coordination a trial, median | p95 | growth "
        "| its CPU in the worker | CPU busy |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, r in rows.items():
        print(
            f"| {n} | {r['trials']} | {r['surplus']} | {r['median'] * 1e3:.0f} ms | "
            f"{r['p95'] * 1e3:.0f} ms | {r['median'] / base['median']:.1f}x | "
            f"{r['cpu'] * 1e3:.0f} ms | {r['busy']:.0%} |"
        )
    print("every run: each trial finished once, by one process; none lost, none left running")


if __name__ == "__main__":
    main()
