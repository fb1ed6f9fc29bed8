"""Scaling out on existing engines: joblib workers, and sweep processes sharing a study."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from hydra_plugins.hpsweep_sweeper._bookkeeping import SURPLUS_ATTR
from tests.conftest import TRAIN_PY
from tests.sweep_files import assert_records_agree, results, sweep_dir_of


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
    rows = [*assert_records_agree(tmp_path / "p0"), *assert_records_agree(tmp_path / "p1")]
    assert len(rows) == 6  # none lost, none run twice
    assert len({r["optimizer.lr"] for r in rows}) == 6
    assert all(r["status"] == "complete" for r in rows)


def postgres_bin() -> Path | None:
    """Debian's PostgreSQL server binaries, newest version first; None if not installed."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on a free loopback port, for one test."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binary (Debian's postgresql package) on this machine")
    # Not under pytest's tmp dir: the server runs as user postgres, who cannot enter it.
    parent = Path(tempfile.mkdtemp(prefix="hpsweep-pg-"))
    parent.chmod(0o777)
    data = parent / "data"  # initdb creates it, owned by whoever runs the server
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {parent} -c listen_addresses=127.0.0.1"
    pg_ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*pg_ctl, "-o", options, "-l", str(parent / "server.log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_sweep_processes_share_one_postgresql_study(postgres_url: str, tmp_path: Path) -> None:
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(TRAIN_PY),
                "-m",
                "hydra/sweeper=hyperband",  # rungs shared through the database
                "optimizer.lr=tag(log,interval(1e-4,1e-1))",
                "hydra.sweeper.n_trials=8",
                f"hydra.sweeper.storage={postgres_url}",
                "hydra.sweeper.study_name=shared",
                f"hydra.sweeper.seed={i}",
                f"hydra.sweep.dir=p{i}",
                "data=synthetic",
                "trainer.epochs=9",
            ],
            cwd=tmp_path,
        )
        for i in range(2)
    ]
    assert [p.wait(timeout=300) for p in processes] == [0, 0]

    storage = optuna.storages.RDBStorage(postgres_url)
    try:
        trials = optuna.load_study(study_name="shared", storage=storage).trials
    finally:
        storage.engine.dispose()  # close the connections before the server stops
    ran = [t for t in trials if SURPLUS_ATTR not in t.user_attrs]
    assert len(ran) == 8
    assert {t.state for t in ran} <= {TrialState.COMPLETE, TrialState.PRUNED}
    rows = [*results(tmp_path / "p0"), *results(tmp_path / "p1")]
    assert len(rows) == 8


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
