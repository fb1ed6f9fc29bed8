"""The study's storage: opened from what the user typed, its password never written down.

Example: `hydra.sweeper.storage=postgresql://alice:s3cret@db/hp` on the command line.

- Logs and messages show `postgresql://alice:***@db/hp` (`mask_password`).
- What the sweep records for its jobs and for later readers (`.hpsweep/study.json`,
  `multirun.yaml`, every job's `.hydra/hydra.yaml`) is
  `postgresql://alice:${oc.env:HPSWEEP_STORAGE_PASSWORD}@db/hp`; the password itself goes
  into the sweep process's environment, which the launcher's jobs inherit
  (`conceal_storage_password`). A URL that takes its password from the environment
  already (`${oc.env:HPSWEEP_DB_PASSWORD}`) or names none (libpq's `PGPASSWORD`,
  `~/.pgpass`) is recorded as typed: interpolations are resolved only when the storage
  is opened (`make_storage`).
- A storage that cannot be opened is one line, before any folder exists
  (`check_storage`): `cannot open the study storage postgresql://alice:***@db/hp:
  connection refused`.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

log = logging.getLogger(__name__)

# Where a password typed in the storage URL waits for the jobs (see conceal_storage_password).
PASSWORD_ENV = "HPSWEEP_STORAGE_PASSWORD"
PASSWORD_REFERENCE = "${oc.env:" + PASSWORD_ENV + "}"
STORAGE_KEY = "hydra.sweeper.storage"

# scheme://user:password@host... (SQLAlchemy's grammar: the password runs up to the '@'),
# and libpq's ?password=... query parameter.
_USERINFO_PASSWORD = re.compile(r"^(?P<head>[\w+.-]+://[^:/@]*:)(?P<password>[^@]*)(?=@)")
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<password>[^&]*)")


class StorageError(Exception):
    """A study storage that cannot be opened; the message names it with its password masked."""


def is_url(spec: str) -> bool:
    """An RDB URL (has "://"); anything else is the path of a journal file."""
    return "://" in spec


def mask_password(spec: str) -> str:
    """The storage spec with any password shown as ***: fit for logs and messages."""
    spec = _USERINFO_PASSWORD.sub(r"\g<head>***", spec)
    return _QUERY_PASSWORD.sub(r"\g<head>***", spec)


def split_password(spec: str) -> tuple[str, str | None]:
    """(the spec referring to PASSWORD_ENV instead, the password) when a password is
    written into the URL itself; (spec, None) when it names none or takes it from an
    interpolation (`${oc.env:...}`)."""
    for pattern in (_USERINFO_PASSWORD, _QUERY_PASSWORD):
        match = pattern.search(spec) if is_url(spec) else None
        if match and match["password"] and "${" not in match["password"]:
            start, end = match.span("password")
            return spec[:start] + PASSWORD_REFERENCE + spec[end:], match["password"]
    return spec, None


def resolve(spec: str) -> str:
    """The spec with its interpolations (`${oc.env:NAME}`) resolved."""
    if "${" not in spec:
        return spec
    try:
        return str(OmegaConf.create({"spec": spec}).spec)
    except OmegaConfBaseException as error:
        reason = interpolation_reason(error)
        raise StorageError(f"cannot open the study storage {spec}: {reason}") from None


def interpolation_reason(error: OmegaConfBaseException) -> str:
    """'environment variable NAME is not set' for a missing ${oc.env:NAME}, else
    OmegaConf's first line."""
    missing = re.search(r"Environment variable '([^']+)' not found", str(error))
    if missing:
        return f"environment variable {missing[1]} is not set"
    return str(error).splitlines()[0]


def make_storage(spec: str) -> Any:
    """An Optuna storage from an RDB URL (has "://") or a journal file path, its
    interpolations resolved. Raises StorageError (password masked) if it cannot be opened."""
    from optuna.storages.journal import JournalFileBackend

    from hpsweep.sweep.journal_lock import PromptSymlinkLock
    from hpsweep.sweep.journal_storage import WaitingIndexJournalStorage

    resolved = resolve(spec)
    try:
        if is_url(resolved):
            return _rdb_storage(resolved)
        # A journal inside a folder that does not exist yet (the sweep's own, by default).
        Path(resolved).parent.mkdir(parents=True, exist_ok=True)
        lock = PromptSymlinkLock(resolved)  # Optuna's lock, minus its 1 s back-off
        return WaitingIndexJournalStorage(JournalFileBackend(resolved, lock_obj=lock))
    except Exception as error:
        raise StorageError(
            f"cannot open the study storage {mask_password(resolved)}: {reason_of(error)}"
        ) from None


# Storages opened for the jobs a process runs, by (process id, spec): see process_storage.
_PROCESS_STORAGES: dict[tuple[int, str], Any] = {}


def process_storage(spec: str) -> Any:
    """make_storage(spec), opened once per process and shared by every job it runs: the
    in-process launcher runs a whole sweep's jobs in the sweeper's process, a joblib or
    Ray worker runs many. Opened per job, each trial cost a database connection and
    Optuna's schema checks (32 sweep processes on one PostgreSQL study ran out of
    connections: "too many clients"), or a replay of the whole journal file. Keyed by
    process id: a forked child opens its own, as a connection must not cross a fork."""
    key = (os.getpid(), spec)
    if key not in _PROCESS_STORAGES:
        _PROCESS_STORAGES[key] = make_storage(spec)
    return _PROCESS_STORAGES[key]


def close_process_storages() -> None:
    """Close the storages process_storage opened in this process (at a sweep's end)."""
    for key in [key for key in _PROCESS_STORAGES if key[0] == os.getpid()]:
        dispose(_PROCESS_STORAGES.pop(key))


def check_storage(spec: str) -> None:
    """Raise StorageError unless the storage can be opened, leaving nothing on disk: an
    RDB URL is connected to (Optuna creates its tables there, as the sweep would); for a
    journal file, stand-ins of what the sweep will make are made and removed again
    (journal_path_problem)."""
    resolved = resolve(spec)
    if is_url(resolved):
        dispose(make_storage(spec))
        return
    problem = journal_path_problem(Path(resolved))
    if problem:
        raise StorageError(f"cannot open the study storage {resolved}: {problem}")


def journal_path_problem(path: Path) -> str | None:
    """Why a journal file could not be written at `path` (None: it could).

    Proven by trying, not by os.access: that says yes to root everywhere, /proc and
    root-squashed NFS included, and the sweep then failed after its folder existed."""
    try:
        if path.is_dir():
            return "it is a folder; give the path of a file"
        if path.exists():
            open(path, "ab").close()  # as Optuna opens it; changes neither bytes nor mtime
            return _creation_problem(path.parent, make_folder=False)
        ancestor = path.parent
        while not ancestor.exists():  # the sweeper creates the missing folders
            ancestor = ancestor.parent
    except OSError as error:  # a folder on the way that this user may not look into
        return f"{_reason(error)} on {error.filename}"
    if not ancestor.is_dir():
        return f"{ancestor} is not a folder"
    return _creation_problem(ancestor, make_folder=ancestor != path.parent)


def _creation_problem(folder: Path, make_folder: bool) -> str | None:
    """Why the sweep could not make its journal in `folder` (None: it could): makes and
    removes a file and its lock, a symbolic link (journal_lock), as the sweep will, and
    first a folder for them when the sweep has folders to create. Every name is a fresh
    temporary one: the real folders are left to the sweep, and another sweep creating
    them at this moment is never disturbed."""
    made: list[Path] = []  # removed in reverse: the link, the file, the folder
    step = "folders" if make_folder else "files"
    try:
        inside = folder
        if make_folder:
            inside = Path(tempfile.mkdtemp(prefix=".hpsweep-check-", dir=folder))
            made.append(inside)
            step = "files"
        handle, name = tempfile.mkstemp(prefix=".hpsweep-check-", dir=inside)
        os.close(handle)
        made.append(Path(name))
        step = "the journal's lock (a symbolic link)"
        os.symlink(name, name + ".lock")
        made.append(Path(name + ".lock"))
    except OSError as error:
        return f"cannot create {step} in {folder} ({_reason(error)})"
    finally:
        for path in reversed(made):
            if path == made[0] and make_folder:
                path.rmdir()
            else:
                path.unlink()
    return None


def _reason(error: OSError) -> str:
    """'permission denied' from [Errno 13] Permission denied."""
    return (error.strerror or type(error).__name__).lower()


def dispose(storage: Any) -> None:
    """Close an RDB storage's connections (a journal holds none)."""
    # optuna.storages.get_storage wraps its RDBStorage in a private _CachedStorage; the
    # connection test in tests/test_storage.py fails (ResourceWarning) if that changes.
    rdb = getattr(storage, "_backend", storage)
    if hasattr(rdb, "engine"):
        rdb.remove_session()  # the connection the storage's session still holds
        rdb.engine.dispose()


def reason_of(error: BaseException) -> str:
    """One short line for why a storage did not open, from the driver's own words.

    (psycopg) connection failed: connection to server at "127.0.0.1", port 1 failed:
    Connection refused / Is the server running ... -> "connection refused"."""
    from sqlalchemy.exc import NoSuchModuleError

    if isinstance(error, NoSuchModuleError):
        scheme = str(error).rsplit(":", 1)[-1]
        return (
            f"unsupported URL scheme '{scheme}'; give an RDB URL SQLAlchemy supports "
            "(sqlite:///..., postgresql://..., mysql://...) or the path of a journal file"
        )
    if isinstance(error, ImportError) and error.__cause__ is not None:
        return f"its database driver is not installed ({error.__cause__})"
    message = str(getattr(error, "orig", None) or error).strip()
    first_line = message.splitlines()[0] if message else type(error).__name__
    # libpq: "connection to server at ... failed: FATAL:  <what went wrong>"
    reason = re.split(r"failed:\s+(?:FATAL:\s+)?", first_line)[-1].strip()
    if len(reason) > 1 and reason[0].isupper() and reason[1].islower():
        reason = reason[0].lower() + reason[1:]
    return reason


def _rdb_storage(url: str, attempts: int = 5) -> Any:
    """Optuna's RDB storage. Two processes that start on a new database at once both
    create Optuna's tables, and one of them loses that race with an IntegrityError:
    it then finds the tables made and only has to connect again."""
    import optuna
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(attempts):
        try:
            return optuna.storages.get_storage(url)
        except (IntegrityError, ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def conceal_storage_password(config: DictConfig) -> str | None:
    """The storage spec the sweep records, with no password in it; None: none configured.

    A password typed into `hydra.sweeper.storage` is moved into this process's
    environment (PASSWORD_ENV: the launcher's jobs, local or on a cluster, inherit it),
    and `config` is rewritten to refer to it, both the key and the command-line override
    the jobs are composed from, so that multirun.yaml and each job's .hydra/hydra.yaml
    hold `${oc.env:HPSWEEP_STORAGE_PASSWORD}` instead."""
    sweeper = OmegaConf.to_container(config.hydra.sweeper, resolve=False)
    typed = sweeper.get("storage") if isinstance(sweeper, dict) else None
    if typed is None:
        return None
    if re.search(r"\$\{(?!oc\.env:)", str(typed)):
        # It refers to other keys of the config: record what they resolve to.
        typed = OmegaConf.select(config, STORAGE_KEY)
    recorded, password = split_password(str(typed))
    if password is None:
        return recorded
    log.warning(
        "%s holds a password: hpsweep keeps it out of its files and logs, but your shell "
        "history and the process list show it; give it through the environment instead "
        "(README, Scaling out: Passwords)",
        STORAGE_KEY,
    )
    os.environ[PASSWORD_ENV] = password
    # Quoted, so that Hydra's override grammar takes any URL (`?host=...` included).
    quoted = "'" + recorded.replace("'", "\\'") + "'"
    # Unresolved: an override may hold interpolations of its own, to keep as typed.
    lines = OmegaConf.to_container(config.hydra.overrides.hydra, resolve=False)
    assert isinstance(lines, list)
    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra.sweeper.storage = recorded
        config.hydra.overrides.hydra = [
            f"{line.split(STORAGE_KEY)[0]}{STORAGE_KEY}={quoted}"
            if line.lstrip("+").startswith(STORAGE_KEY + "=")
            else line
            for line in lines
        ]
    return recorded


def open_or_exit(spec: str) -> Any:
    """process_storage, or one line `Error: cannot open the study storage ...` and exit 1."""
    try:
        return process_storage(spec)
    except StorageError as error:
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
