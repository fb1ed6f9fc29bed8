"""hpsweep.sweep.storage: passwords masked and kept out of what a sweep records; a
storage that cannot be opened named in one line — against a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from hpsweep.hydra_callbacks.storage import CheckStudyStorage
from hpsweep.sweep.storage import (
    PASSWORD_ENV,
    StorageError,
    check_storage,
    conceal_storage_password,
    dispose,
    make_storage,
    mask_password,
    split_password,
)
from tests.conftest import WARNINGS_AS_ERRORS, ComposeTrain
from tests.postgres_server import PostgresServer, running_postgres

MASKED = [
    ("postgresql://alice:s3cret@127.0.0.1:1/hp", "postgresql://alice:***@127.0.0.1:1/hp"),
    ("postgresql+psycopg://alice:s3c@ret@db/hp", "postgresql+psycopg://alice:***@ret@db/hp"),
    ("mysql://alice:p/w@db:3306/hp", "mysql://alice:***@db:3306/hp"),
    ("postgresql://alice@db/hp?password=s3cret&x=1", "postgresql://alice@db/hp?password=***&x=1"),
    ("postgresql://alice:${oc.env:PW}@db/hp", "postgresql://alice:***@db/hp"),
    ("postgresql://alice@/hp?host=/tmp/pg", "postgresql://alice@/hp?host=/tmp/pg"),
    ("postgresql://db/hp", "postgresql://db/hp"),
    ("sqlite:///runs/study.db", "sqlite:///runs/study.db"),
    ("/shared/alice:study.log", "/shared/alice:study.log"),
]


@pytest.mark.parametrize(("spec", "shown"), MASKED, ids=[s for s, _ in MASKED])
def test_mask_password(spec: str, shown: str) -> None:
    assert mask_password(spec) == shown


REF = "${oc.env:" + PASSWORD_ENV + "}"
SPLIT = [
    ("postgresql://alice:s3cret@db/hp", f"postgresql://alice:{REF}@db/hp", "s3cret"),
    ("postgresql://alice:alice@db/hp", f"postgresql://alice:{REF}@db/hp", "alice"),
    ("postgresql://u@db/hp?password=s3&a=1", f"postgresql://u@db/hp?password={REF}&a=1", "s3"),
    ("postgresql://alice:${oc.env:PW}@db/hp", "postgresql://alice:${oc.env:PW}@db/hp", None),
    ("postgresql://alice@db/hp", "postgresql://alice@db/hp", None),
    ("postgresql://alice:@db/hp", "postgresql://alice:@db/hp", None),
    ("/shared/a:b@c.log", "/shared/a:b@c.log", None),
]


@pytest.mark.parametrize(("spec", "recorded", "password"), SPLIT, ids=[s for s, *_ in SPLIT])
def test_split_password(spec: str, recorded: str, password: str | None) -> None:
    assert split_password(spec) == (recorded, password)


def sweep_config(storage: str | None, override: str | None = None, **more: object) -> DictConfig:
    overrides = ["hydra/sweeper=tpe", "hydra.job.name=${oc.env:PW}"]
    overrides += [override] if override else []
    return OmegaConf.create(
        {
            **more,
            "hydra": {"sweeper": {"storage": storage}, "overrides": {"hydra": overrides}},
        }
    )


CONCEALED = [
    # (typed on the command line, what the sweep records)
    ("postgresql://alice@/hp?host=/tmp/pg", "postgresql://alice@/hp?host=/tmp/pg"),
    ("postgresql://alice:${oc.env:PW}@db/hp", "postgresql://alice:${oc.env:PW}@db/hp"),
    ("postgresql://alice:s3cret@db/hp", f"postgresql://alice:{REF}@db/hp"),
    ("postgresql://alice:s3cret@/hp?host=/tmp/pg", f"postgresql://alice:{REF}@/hp?host=/tmp/pg"),
]


@pytest.mark.parametrize(("typed", "recorded"), CONCEALED, ids=[t for t, _ in CONCEALED])
def test_a_typed_password_moves_into_the_environment_and_out_of_the_config(
    typed: str, recorded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)  # restored after the test
    monkeypatch.setenv("PW", "from-env")
    config = sweep_config(typed, f"hydra.sweeper.storage='{typed}'")

    assert conceal_storage_password(config) == recorded
    saved = OmegaConf.to_yaml(config)  # what multirun.yaml and .hydra/hydra.yaml hold
    assert "s3cret" not in saved
    assert "hydra.job.name=${oc.env:PW}" in saved  # other overrides stay as typed
    # The jobs are composed from the rewritten override: it parses, and resolves to the
    # URL the user typed (its password from the environment).
    overrides = OmegaConf.to_container(config.hydra.overrides.hydra)  # as Hydra reads them
    [line] = [o for o in overrides if o.startswith("hydra.sweeper.storage")]
    value = OverridesParser.create().parse_override(line).value()
    assert value == recorded
    assert OmegaConf.create({"url": value}).url == typed.replace("${oc.env:PW}", "from-env")
    assert config.hydra.sweeper.storage == typed.replace("${oc.env:PW}", "from-env")


def test_a_storage_from_other_config_keys_is_recorded_resolved_and_concealed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    config = sweep_config("${db.url}", db={"url": "postgresql://alice:s3cret@db/hp"})
    assert conceal_storage_password(config) == f"postgresql://alice:{REF}@db/hp"


def test_no_storage_configured_is_none() -> None:
    config = sweep_config(None)
    assert conceal_storage_password(config) is None
    assert OmegaConf.to_container(config.hydra.overrides.hydra) == [
        "hydra/sweeper=tpe",
        "hydra.job.name=${oc.env:PW}",
    ]


def cannot_open(spec: str) -> str:
    with pytest.raises(StorageError) as error:
        check_storage(spec)
    return str(error.value)


def test_an_unsupported_url_scheme_is_named() -> None:
    message = cannot_open("mongodb://alice:s3cret@db/hp")
    assert message.startswith("cannot open the study storage mongodb://alice:***@db/hp: ")
    assert "unsupported URL scheme 'mongodb'" in message
    assert "s3cret" not in message


def test_a_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HPSWEEP_TEST_UNSET", raising=False)
    message = cannot_open("postgresql://alice:${oc.env:HPSWEEP_TEST_UNSET}@db/hp")
    assert message.endswith(": environment variable HPSWEEP_TEST_UNSET is not set")


def test_journal_paths_that_cannot_be_written_are_refused_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-folder").mkdir()
    before = sorted(tmp_path.rglob("*"))
    assert cannot_open(str(tmp_path / "a-file" / "study.log")).endswith("is not a folder")
    assert "it is a folder" in cannot_open(str(tmp_path / "a-folder"))
    check_storage(str(tmp_path / "new" / "deeper" / "study.log"))  # the sweeper creates it
    assert sorted(tmp_path.rglob("*")) == before


# Runs the check in a process of its own; as root, that process first becomes `nobody`,
# once it has imported what it needs (the interpreter may sit in /root, closed to nobody).
CHECK_UNPRIVILEGED = """
import os, sys
from hpsweep.sweep.storage import StorageError, check_storage
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
try:
    check_storage(sys.argv[1])
except StorageError as error:
    print(error)
"""


def cannot_open_unprivileged(spec: str) -> str:
    """check_storage's message for `spec`, for a user without root's rights."""
    command = [sys.executable, *WARNINGS_AS_ERRORS, "-c", CHECK_UNPRIVILEGED, spec]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert result.stderr == ""
    return result.stdout.strip()


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder anyone may enter (pytest's tmp_path sits in one only its owner may)."""
    with tempfile.TemporaryDirectory(prefix="hpsweep-test-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


def test_a_journal_in_a_read_only_folder_is_refused(open_folder: Path) -> None:
    read_only = open_folder / "ro"
    read_only.mkdir(mode=0o555)
    for spec, cannot in [
        (read_only / "study.log", "files"),
        (read_only / "new" / "deeper" / "study.log", "folders"),
    ]:
        assert cannot_open_unprivileged(str(spec)) == (
            f"cannot open the study storage {spec}: "
            f"cannot create {cannot} in {read_only} (permission denied)"
        )
    assert list(open_folder.rglob("*")) == [read_only]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes into a read-only folder")
def test_root_is_not_refused_a_read_only_folder_it_can_write(tmp_path: Path) -> None:
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o555)
    journal = read_only / "new" / "study.log"
    check_storage(str(journal))
    assert list(read_only.iterdir()) == []  # the check made nothing that stays
    make_storage(str(journal))  # and its yes was true
    assert journal.is_file()


def test_a_journal_where_even_root_cannot_create_anything_is_refused() -> None:
    # os.access says yes to root on /proc; creating anything there fails for everyone.
    message = cannot_open("/proc/hpsweep/journal.log")
    assert message.startswith(
        "cannot open the study storage /proc/hpsweep/journal.log: cannot create folders in /proc ("
    )
    assert not Path("/proc/hpsweep").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder nobody may enter")
def test_a_folder_the_user_may_not_enter_is_named(open_folder: Path) -> None:
    closed = open_folder / "closed"
    closed.mkdir(mode=0o700)  # root's alone: closed to nobody
    assert cannot_open_unprivileged(str(closed / "study.log")) == (
        f"cannot open the study storage {closed / 'study.log'}: "
        f"permission denied on {closed / 'study.log'}"
    )


def test_an_sqlite_file_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    message = cannot_open(f"sqlite:///{tmp_path}/a-file/study.db")
    assert message.endswith(": unable to open database file")


def test_a_journal_opens_in_a_folder_it_creates(tmp_path: Path) -> None:
    make_storage(str(tmp_path / "sweep" / "study.log"))
    assert (tmp_path / "sweep" / "study.log").is_file()


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.mark.xdist_group("storage-postgres")
def test_the_server_with_the_right_password_opens(postgres: PostgresServer) -> None:
    dispose(make_storage(postgres.url(password=postgres.password)))


@pytest.mark.xdist_group("storage-postgres")
def test_a_server_that_is_down_is_connection_refused(postgres: PostgresServer) -> None:
    message = cannot_open("postgresql://alice:s3cretpw@127.0.0.1:1/hp")
    assert message == (
        "cannot open the study storage postgresql://alice:***@127.0.0.1:1/hp: connection refused"
    )


@pytest.mark.xdist_group("storage-postgres")
def test_no_server_on_the_socket(postgres: PostgresServer, tmp_path: Path) -> None:
    message = cannot_open(f"postgresql://alice:s3cretpw@/hp?host={tmp_path}")
    assert message.endswith(": no such file or directory"), message


@pytest.mark.xdist_group("storage-postgres")
def test_a_wrong_password_is_named_and_masked(postgres: PostgresServer) -> None:
    message = cannot_open(postgres.url(password="wrong-guess"))
    masked = f"postgresql://alice:***@/hp?host={postgres.socket_dir}"
    assert message == (
        f'cannot open the study storage {masked}: password authentication failed for user "alice"'
    )


@pytest.mark.xdist_group("storage-postgres")
def test_a_missing_database_is_named(postgres: PostgresServer) -> None:
    message = cannot_open(postgres.url(password=postgres.password, database="nope"))
    assert message.endswith(': database "nope" does not exist'), message
    assert postgres.password not in message


def test_no_password_at_all_is_refused(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    assert "password" in cannot_open(postgres.url())


def test_libpq_finds_the_password_in_pgpassword(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    dispose(make_storage(postgres.url()))


CALLBACK_CASES = [
    # (overrides, the one line printed; None: the callback lets the sweep go on)
    (
        ["hydra.sweeper.storage=postgresql://alice:s3cret@127.0.0.1:1/hp"],
        "Error: cannot open the study storage postgresql://alice:***@127.0.0.1:1/hp: "
        "connection refused",
    ),
    (
        ["hydra.sweeper.storage=postgresql://alice:${oc.env:HPSWEEP_TEST_UNSET}@db/hp"],
        "Error: cannot open the study storage postgresql://alice:***@db/hp: "
        "environment variable HPSWEEP_TEST_UNSET is not set",
    ),
    (["hydra.sweeper.storage=postgresql://a:b@127.0.0.1:1/hp", "hydra.sweeper.dry_run=true"], None),
    (["hydra/sweeper=grid"], None),  # Hydra's basic sweeper has no storage
    ([], None),  # the default: a journal in the sweep folder, made by the sweeper
]


@pytest.mark.parametrize(
    ("overrides", "line"), CALLBACK_CASES, ids=[" ".join(o) or "default" for o, _ in CALLBACK_CASES]
)
def test_the_callback_stops_a_sweep_whose_storage_cannot_be_opened(
    overrides: list[str],
    line: str | None,
    compose_train: ComposeTrain,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HPSWEEP_TEST_UNSET", raising=False)
    config = compose_train(*overrides, hydra=True)
    if line is None:
        CheckStudyStorage().on_multirun_start(config)
        assert capsys.readouterr().err == ""
        return
    with pytest.raises(SystemExit) as stopped:
        CheckStudyStorage().on_multirun_start(config)
    assert stopped.value.code == 1
    assert capsys.readouterr().err.splitlines() == [line]
