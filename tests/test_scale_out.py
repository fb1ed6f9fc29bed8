"""Scaling out on existing engines: joblib workers, and sweep processes sharing a study."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hpsweep.search.bookkeeping import SURPLUS_ATTR
from hpsweep.sweep.channel import registered_pid
from tests.conftest import TRAIN_PY
from tests.postgres_server import PostgresServer, running_postgres
from tests.sweep_files import (
    assert_records_agree,
    epochs_logged,
    files_holding,
    start_train,
    sweep_dir_of,
)


@pytest.mark.long
def test_two_sweep_processes_share_one_journal_study(tmp_path: Path) -> None:
    journal = tmp_path / "shared-study.log"
    command = [
        sys.executable,
        str(TRAIN_PY),
        "-m",
        "hydra/sweeper=random",
        "optimizer.lr=tag(log,interval(1e-4,1e-1))",
        "hydra.sweeper.n_trials=6",
        f"hydra.sweeper.storage={journal}",
        "hydra.sweeper.study_name=shared",
        "data=synthetic",
        "trainer.epochs=3",
        "hydra.sweeper.report=false",
    ]
    processes = [
        # each process its own sampler seed, or both would propose the same values
        subprocess.Popen(
            [*command, f"hydra.sweeper.seed={i}", f"hydra.sweep.dir=p{i}"], cwd=tmp_path
        )
        for i in range(2)
    ]
    assert [p.wait(timeout=300) for p in processes] == [0, 0]

    storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.load_study(study_name="shared", storage=storage)
    ran = [t for t in study.trials if SURPLUS_ATTR not in t.user_attrs]
    assert [t.state for t in ran] == [TrialState.COMPLETE] * 6  # the total as asked
    rows = [
        *assert_records_agree(tmp_path / "p0", shared_study=True),
        *assert_records_agree(tmp_path / "p1", shared_study=True),
    ]
    assert len(rows) == 6  # none lost, none run twice
    assert len({r["optimizer.lr"] for r in rows}) == 6
    assert all(r["status"] == "complete" for r in rows)


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.mark.long
def test_two_sweep_processes_share_one_postgresql_study(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The password through libpq's own PGPASSWORD: the URL names none, so every
    # process that opens the study (sweepers, jobs, this test) finds it there.
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    consoles = [(tmp_path / f"p{i}.console").open("w") for i in range(2)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(TRAIN_PY),
                "-m",
                "hydra/sweeper=hyperband",  # rungs shared through the database
                "optimizer.lr=tag(log,interval(1e-4,1e-1))",
                "hydra.sweeper.n_trials=8",
                f"hydra.sweeper.storage='{postgres.url()}'",
                "hydra.sweeper.study_name=shared",
                f"hydra.sweeper.seed={i}",
                f"hydra.sweep.dir=p{i}",
                "data=synthetic",
                "trainer.epochs=9",
                "hydra.sweeper.report=false",
            ],
            cwd=tmp_path,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
        for i, console in enumerate(consoles)
    ]
    assert [p.wait(timeout=300) for p in processes] == [0, 0]
    for console in consoles:
        console.close()
    # Nothing either process printed or wrote holds the password (p*.console included).
    assert files_holding(tmp_path, postgres.password) == []

    storage = optuna.storages.RDBStorage(postgres.url())
    try:
        trials = optuna.load_study(study_name="shared", storage=storage).trials
    finally:
        storage.engine.dispose()  # close the connections before the server stops
    ran = [t for t in trials if SURPLUS_ATTR not in t.user_attrs]
    assert len(ran) == 8
    assert {t.state for t in ran} <= {TrialState.COMPLETE, TrialState.PRUNED}
    rows = [
        *assert_records_agree(tmp_path / "p0", shared_study=True),
        *assert_records_agree(tmp_path / "p1", shared_study=True),
    ]
    assert len(rows) == 8


@pytest.mark.long
def test_submitit_local_sweep_completes(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(TRAIN_PY),
            "-m",
            "hydra/launcher=submitit_local",
            "optimizer=adam,sgd",
            "data=synthetic",
            "trainer.epochs=2",
            "hydra.launcher.timeout_min=5",
            "hydra.sweeper.report=false",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = assert_records_agree(sweep_dir_of(tmp_path))
    assert sorted(r["optimizer"] for r in rows) == ["adam", "sgd"]
    assert {r["status"] for r in rows} == {"complete"}


@pytest.mark.long
def test_a_preempted_submitit_job_is_requeued_and_continues_where_it_stopped(
    tmp_path: Path,
) -> None:
    """Slurm's preemption, through submitit's own protocol on its local executor: the
    job gets submitit's signal (USR2) mid-run; it finishes its epoch and saves, then
    submitit's handler checkpoints Hydra's launcher and requeues the job, which
    continues in its own folder from that state: each epoch trained once, one
    TensorBoard run, the value of a run never preempted."""
    sweep, epochs = tmp_path / "sweep", 150
    run = ("optimizer.lr=0.001", f"trainer.epochs={epochs}", "~callbacks.early_stopping")
    process = start_train(
        "-m",
        "hydra/launcher=submitit_local",
        *run,
        "hydra.sweeper.report=false",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    log = sweep / "00" / "train.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and f"epoch  50/{epochs}" in log.read_text()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    preempted = registered_pid(sweep, 0)
    assert preempted is not None
    os.kill(preempted, signal.SIGUSR2)  # what Slurm sends before preempting
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-3000:]
    assert registered_pid(sweep, 0) not in (None, preempted)  # requeued: a new process

    [row] = assert_records_agree(sweep)
    assert (row["status"], row["epochs"]) == ("complete", str(epochs))
    text = log.read_text()
    assert "resumed from" in text
    trained = sorted(epochs_logged(text, epochs))
    assert trained == list(range(1, epochs + 1))  # each epoch once: nothing lost
    events = EventAccumulator(str(sweep / "00"), size_guidance={"tensors": 0})
    events.Reload()
    assert [e.step for e in events.Tensors("val/loss")] == list(range(1, epochs + 1))
    never = subprocess.run(
        [sys.executable, str(TRAIN_PY), *run, f"hydra.run.dir={tmp_path / 'never'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert never.returncode == 0, never.stderr
    expected = json.loads((tmp_path / "never" / "metrics.json").read_text())["value"]
    assert float(row["value"]) == pytest.approx(expected, abs=1e-6)


@pytest.mark.long
def test_joblib_workers_share_the_cores(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(TRAIN_PY),
            "-m",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            "hydra.sweeper.n_jobs=2",
            # unset: each worker takes its share of the cores; set: exactly that many
            "trainer.num_threads=null,1",
            "data=synthetic",
            "trainer.epochs=1",
            "hydra.sweeper.report=false",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = assert_records_agree(sweep_dir_of(tmp_path))
    share = max(1, (os.cpu_count() or 1) // 2)
    threads = {
        r["trainer.num_threads"]: (Path(r["job_dir"]) / "train.log").read_text() for r in rows
    }
    assert f"on cpu, {share} threads" in threads["null"]
    assert "on cpu, 1 threads" in threads["1"]
