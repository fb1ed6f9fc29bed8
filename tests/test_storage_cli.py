"""The study storage from the command line, end to end: an unreachable one stops before
anything is written, and a reachable one's password appears nowhere a sweep writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpsweep.sweep.channel import CHANNEL_FILE, recorded_study
from hpsweep.sweep.storage import PASSWORD_ENV
from tests.postgres_server import PostgresServer, running_postgres
from tests.sweep_files import assert_records_agree, files_holding, sweep_dir_of
from tests.test_cli import run_train


def test_an_unreachable_study_stops_with_one_masked_line_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    result = run_train(
        "-m",
        "optimizer.lr=interval(1e-4,1e-1)",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.storage=postgresql://alice:s3cretpw@127.0.0.1:1/hp",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "Error: cannot open the study storage postgresql://alice:***@127.0.0.1:1/hp: "
        "connection refused\n"
    )
    assert "s3cretpw" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # no multirun/, no study, no results.csv


def test_a_journal_even_root_cannot_create_stops_before_anything_is_written(
    tmp_path: Path,
) -> None:
    # os.access says yes to root on /proc; the sweep used to find out only after
    # TensorBoard's experiment file was in the sweep folder (issue 24, item 6).
    result = run_train(
        "-m",
        "optimizer.lr=interval(1e-4,1e-1)",
        "hydra.sweeper.storage=/proc/hpsweep/journal.log",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "Error: cannot open the study storage /proc/hpsweep/journal.log: "
        "cannot create folders in /proc ("
    )
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


# How the password reaches the sweep: an environment variable named in the URL (the
# safe way), or typed into the URL itself (masked and moved out of what is written).
# The end-of-sweep report runs once (it never reads the storage), to save its seconds.
PASSWORD_GIVEN = {
    "from the environment": ("${oc.env:HPSWEEP_DB_PASSWORD}", []),
    "typed in the URL": (None, ["~hydra.callbacks.report"]),
}


@pytest.mark.parametrize(("given", "more"), PASSWORD_GIVEN.values(), ids=PASSWORD_GIVEN.keys())
def test_a_sweep_on_a_password_protected_server_never_writes_the_password(
    given: str | None,
    more: list[str],
    postgres: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HPSWEEP_DB_PASSWORD", postgres.password)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)  # only the sweeper sets it, for its jobs
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))  # no ~/.pgpass either
    url = postgres.url(password=given or postgres.password)
    result = run_train(
        "-m",
        "hydra/sweeper=sha",  # jobs report every epoch: they open the study too
        "optimizer.lr=tag(log,interval(1e-3,1e-1))",
        "hydra.sweeper.n_trials=2",
        f"hydra.sweeper.storage='{url}'",
        "data=synthetic",
        "trainer.epochs=2",
        *more,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert postgres.password not in result.stdout + result.stderr
    assert files_holding(tmp_path, postgres.password) == []
    assert "postgresql://alice:***@/hp" in result.stdout + result.stderr  # logged masked

    sweep = sweep_dir_of(tmp_path)
    recorded = json.loads((sweep / CHANNEL_FILE).read_text())["storage"]
    assert recorded == postgres.url(password=given or "${oc.env:" + PASSWORD_ENV + "}")
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)  # what the sweep's jobs had
    assert_records_agree(sweep)
    with recorded_study(sweep) as study:
        reported = [t for t in study.trials if t.intermediate_values]
    assert len(reported) == 2  # every job reached the database with the password
