"""Benchmark: the default journal file (Optuna's JournalFileBackend) under concurrent writers.

Each writer process opens one study in one journal file through hpsweep's own
`make_storage` and does what a sweep and its jobs do to it: ask a trial, report a value
every epoch (each followed by the pruner's question, which reads the log back), tell.
First 1 writer alone, then N at once (default 8, as two sweeps with 4 jobs each), all
starting at one barrier — N with Optuna's own JournalFileSymlinkLock (the baseline, in
the same run) and N with hpsweep's (hpsweep.sweep.journal_lock). Prints records written per
second (lines of the journal over the wall time) and the latency of each write
(ask, report, tell): median, 99th percentile and worst. Every run is checked: as many
trials as asked, none twice, every reported value present.

    python bench/journal_load.py [--writers 8] [--trials 10] [--epochs 30]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

import optuna
from optuna.storages.journal import JournalFileBackend

from hpsweep.sweep.storage import make_storage


def open_journal(journal: str, lock: str) -> optuna.storages.BaseStorage:
    """hpsweep's journal storage, or the same with Optuna's own lock (the baseline)."""
    if lock == "hpsweep":
        return make_storage(journal)
    return optuna.storages.JournalStorage(JournalFileBackend(journal))


def writer(
    journal: str,
    lock: str,
    trials: int,
    epochs: int,
    start: multiprocessing.synchronize.Barrier,
    out: object,
) -> None:
    """One process's work; puts (seconds of each write) and (start, end) on `out`."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # not "taking longer than 10 s"
    study = optuna.create_study(
        study_name="bench",
        storage=open_journal(journal, lock),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=epochs + 1),  # never prunes
        load_if_exists=True,
    )
    latencies = []
    start.wait(timeout=120)
    began = time.perf_counter()
    for _ in range(trials):
        t0 = time.perf_counter()
        trial = study.ask()
        latencies.append(time.perf_counter() - t0)
        for epoch in range(epochs):
            t0 = time.perf_counter()
            trial.report(1.0 / (epoch + 1), epoch)
            latencies.append(time.perf_counter() - t0)
            trial.should_prune()  # a read, as every job does after each report
        t0 = time.perf_counter()
        study.tell(trial, 0.5)
        latencies.append(time.perf_counter() - t0)
    out.put((latencies, began, time.perf_counter()))  # type: ignore[attr-defined]


def run(writers: int, lock: str, trials: int, epochs: int) -> dict[str, float]:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["optuna", "hpsweep.sweep.storage"])
    with tempfile.TemporaryDirectory() as tmp:
        journal = str(Path(tmp) / "optuna-journal.log")
        make_storage(journal)  # the file exists before the writers race to create the study
        start, out = context.Barrier(writers), context.Queue()
        processes = [
            context.Process(target=writer, args=(journal, lock, trials, epochs, start, out))
            for _ in range(writers)
        ]
        for process in processes:
            process.start()
        results = [out.get(timeout=600) for _ in processes]
        for process in processes:
            process.join()
        assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]
        records = len(Path(journal).read_bytes().splitlines())
        study = optuna.load_study(study_name="bench", storage=make_storage(journal))
        done = study.get_trials()
        assert sorted(t.number for t in done) == list(range(writers * trials))
        assert all(len(t.intermediate_values) == epochs for t in done)
    latencies = sorted(x for lat, _, _ in results for x in lat)
    wall = max(end for _, _, end in results) - min(began for _, began, _ in results)
    return {
        "records": records,
        "wall": wall,
        "per_second": records / wall,
        "p50": statistics.median(latencies),
        "p99": latencies[int(0.99 * (len(latencies) - 1))],
        "worst": latencies[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--trials", type=int, default=10, help="per writer")
    parser.add_argument("--epochs", type=int, default=30, help="reports per trial")
    args = parser.parse_args()
    n = args.writers
    runs = [(1, "hpsweep"), (n, "optuna"), (n, "hpsweep")]
    rows = {(w, lock): run(w, lock, args.trials, args.epochs) for w, lock in runs}
    print(f"{args.trials} trials x {args.epochs} reports per writer, journal file on local disk")
    print("| writers | lock | records | wall | records/s | write p50 | p99 | worst |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for (w, lock), r in rows.items():
        print(
            f"| {w} | {lock} | {r['records']} | {r['wall']:.2f} s | {r['per_second']:.0f} | "
            f"{r['p50'] * 1e3:.1f} ms | {r['p99'] * 1e3:.1f} ms | {r['worst'] * 1e3:.0f} ms |"
        )
    ours, optunas = rows[(n, "hpsweep")], rows[(n, "optuna")]
    alone = rows[(1, "hpsweep")]
    scaling = ours["per_second"] / alone["per_second"]
    print(f"{n} writers / 1 writer, records per second: {scaling:.2f}x")
    print(f"worst write, Optuna's lock / hpsweep's: {optunas['worst'] / ours['worst']:.1f}x")


if __name__ == "__main__":
    main()
