"""Benchmark: many sweep processes on one PostgreSQL study, coordination cost per trial.

What scaling out looks like to the study: N worker processes (2 to 32) share one
study in a real PostgreSQL server (Debian's binaries, as the tests use; a Unix socket),
through hpsweep's `make_storage`. Each process does, for every trial, the storage calls
the hpsweep sweeper and its job make: count the study's claimed trials against
n_trials, ask, check for surplus (several processes may ask the last place at once),
tag the trial with its job, report each epoch and ask the pruner (Hyperband, 1 to 9
epochs), tell, read the study for the progress line. Epochs *sleep* (0.1 s), so a
2-core machine hosts 32 workers honestly: the trials wait, the storage does not.

Coordination cost = the seconds a trial spends in those calls (sleeps excluded). Every
run is checked: exactly n_trials trials finish (COMPLETE or PRUNED), none is left
RUNNING, no trial is run by two processes, and every other ask was told FAIL as surplus.
Prints, per N, the median and 95th percentile of the per-trial cost and its growth
against 2 workers.

    python bench/shared_study.py [--workers 2 4 8 16 32] [--trials-per-worker 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from hpsweep.search.bookkeeping import claimed_numbers, surplus  # noqa: E402
from hpsweep.sweep.storage import make_storage  # noqa: E402
from tests.postgres_server import running_postgres  # noqa: E402

EPOCHS = 9
EPOCH_SECONDS = 0.1


def worker(url: str, name: str, n_trials: int, start: object, out: object) -> None:
    """One sweep process's trials; puts (trial numbers it ran, cost of each) on `out`."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(
        study_name=name,
        storage=make_storage(url),
        sampler=optuna.samplers.RandomSampler(),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS),
    )
    ran: list[int] = []
    costs: list[float] = []
    start.wait(timeout=300)  # type: ignore[attr-defined]
    while True:
        clock = time.perf_counter()
        if len(claimed_numbers(study.get_trials(deepcopy=False))) >= n_trials:
            break
        trial = study.ask()
        x = trial.suggest_float("x", 0.0, 1.0)
        if surplus(study.get_trials(deepcopy=False), [trial.number], n_trials):
            study.tell(trial, state=TrialState.FAIL)  # another process took the place
            continue
        trial.set_user_attr("hpsweep_job", trial.number)
        cost = time.perf_counter() - clock
        state, loss = TrialState.COMPLETE, 1.0
        for epoch in range(1, EPOCHS + 1):
            time.sleep(EPOCH_SECONDS)  # training: not coordination
            clock = time.perf_counter()
            loss = (x - 0.3) ** 2 + 1.0 / (1 + epoch * (0.2 + x))
            trial.report(loss, epoch)
            pruned = trial.should_prune()
            cost += time.perf_counter() - clock
            if pruned:
                state = TrialState.PRUNED
                break
        clock = time.perf_counter()
        study.tell(trial, loss if state == TrialState.COMPLETE else None, state=state)
        study.get_trials(deepcopy=False)  # the progress line's read
        costs.append(cost + time.perf_counter() - clock)
        ran.append(trial.number)
    out.put((ran, costs))  # type: ignore[attr-defined]


def run(url: str, workers: int, trials_per_worker: int) -> dict[str, float]:
    name = f"shared-{workers}"
    n_trials = workers * trials_per_worker
    optuna.create_study(study_name=name, storage=make_storage(url))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["optuna", "hpsweep.sweep.storage"])
    start, out = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=worker, args=(url, name, n_trials, start, out))
        for _ in range(workers)
    ]
    began = time.perf_counter()
    for process in processes:
        process.start()
    results = [out.get(timeout=900) for _ in processes]
    for process in processes:
        process.join()
    wall = time.perf_counter() - began
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
    costs = sorted(c for _, cs in results for c in cs)
    return {
        "trials": n_trials,
        "surplus": sum(t.state == TrialState.FAIL for t in trials),
        "median": statistics.median(costs),
        "p95": costs[int(0.95 * (len(costs) - 1))],
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--trials-per-worker", type=int, default=4)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with running_postgres() as server:
        os.environ["PGPASSWORD"] = server.password  # libpq's own, read by every worker
        rows = {n: run(server.url(), n, args.trials_per_worker) for n in args.workers}
    base = rows[args.workers[0]]["median"]
    print(
        f"{args.trials_per_worker} trials a worker, Hyperband 1-{EPOCHS} epochs of "
        f"{EPOCH_SECONDS} s, one PostgreSQL study"
    )
    print("| workers | trials | surplus asks | coordination a trial, median | p95 | growth |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, r in rows.items():
        print(
            f"| {n} | {r['trials']} | {r['surplus']} | {r['median'] * 1e3:.0f} ms | "
            f"{r['p95'] * 1e3:.0f} ms | {r['median'] / base:.1f}x |"
        )
    print("every run: each trial finished once, by one process; none lost, none left running")


if __name__ == "__main__":
    main()
