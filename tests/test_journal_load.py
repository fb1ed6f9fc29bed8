"""The default journal file under 8 processes writing at once: nothing lost, nothing twice.

Eight worker processes open one study in one journal file through hpsweep's own
`make_storage`, all at the same moment (two sweeps creating the same study race there),
then each asks trials, reports every "epoch" and asks the pruner after each report, as
a job under Hyperband does, and tells the study the result. Optuna's journal readers
have raised JSONDecodeError under many processes (optuna/optuna#5138), so every
process reads the log back after every write; afterwards every trial, every reported
value and every line of the file is checked.
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import optuna
from optuna.trial import TrialState

from hpsweep.sweep.storage import make_storage

WORKERS = 8
TRIALS = 4  # per worker
STEPS = 8  # reports per trial


def reported_value(worker: int, k: int, step: int) -> float:
    """A value no other (worker, trial, step) reports, so a misplaced one shows."""
    return worker * 1000 + k * 10 + step / 100


def hammer(journal: str, worker: int, start: multiprocessing.synchronize.Barrier) -> None:
    """One writer: ask, report every step (asking the pruner each time), tell."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start.wait(timeout=60)
    study = optuna.create_study(
        study_name="shared",
        storage=make_storage(journal),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=STEPS + 1),  # never prunes
        load_if_exists=True,
    )
    for k in range(TRIALS):
        trial = study.ask()
        trial.set_user_attr("writer", [worker, k])
        for step in range(STEPS):
            trial.report(reported_value(worker, k, step), step)
            assert not trial.should_prune()  # reads the whole log back
        study.tell(trial, reported_value(worker, k, STEPS))


def test_eight_processes_writing_one_journal_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    journal = str(tmp_path / "study" / "optuna-journal.log")
    # Forked from one server that has imported Optuna already: starting 8 workers costs
    # a fraction of a second each instead of a fresh interpreter's import time.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["optuna", "hpsweep.sweep.storage"])
    start = context.Barrier(WORKERS)
    workers = [context.Process(target=hammer, args=(journal, w, start)) for w in range(WORKERS)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0] * WORKERS  # no JSONDecodeError, no error

    study = optuna.load_study(study_name="shared", storage=make_storage(journal))
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == list(range(WORKERS * TRIALS))  # no duplicate
    writers = sorted(tuple(t.user_attrs["writer"]) for t in trials)
    assert writers == [(w, k) for w in range(WORKERS) for k in range(TRIALS)]  # none lost
    for trial in trials:
        worker, k = trial.user_attrs["writer"]
        assert trial.state == TrialState.COMPLETE
        assert trial.value == reported_value(worker, k, STEPS)
        assert trial.intermediate_values == {
            step: reported_value(worker, k, step) for step in range(STEPS)
        }
    lines = Path(journal).read_bytes().split(b"\n")
    assert lines[-1] == b""  # ends with a whole line
    for line in lines[:-1]:
        json.loads(line)  # every line a whole record: none torn or interleaved
