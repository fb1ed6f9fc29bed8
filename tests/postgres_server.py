"""A throwaway PostgreSQL server for the tests that share a study through a database.

It runs Debian's server binaries as user postgres with password authentication
(scram-sha-256) for its one user, `alice`, who owns the database `hp`, and it listens
only on a Unix socket in its own folder (`listen_addresses=''`): no TCP port, so no race
for a free one between tests running in parallel. URLs name the socket folder with
libpq's `host=` query parameter: `postgresql://alice@/hp?host=/tmp/hpsweep-pg-x1y2`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path
    password: str
    user: str = "alice"
    database: str = "hp"

    def url(self, password: str | None = None, database: str | None = None) -> str:
        """The database URL, with `password` written into it when given."""
        userinfo = self.user if password is None else f"{self.user}:{password}"
        return f"postgresql://{userinfo}@/{database or self.database}?host={self.socket_dir}"


def postgres_bin() -> Path | None:
    """Debian's PostgreSQL server binaries, newest version first; None if not installed."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a server for the duration of the block (skip the test if there is none)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binary (Debian's postgresql package) on this machine")
    # Not under pytest's tmp dir: the server runs as user postgres, who cannot enter it.
    parent = Path(tempfile.mkdtemp(prefix="hpsweep-pg-"))
    parent.chmod(0o777)
    data = parent / "data"  # initdb creates it, owned by whoever runs the server
    server = PostgresServer(socket_dir=parent, password="pw-" + secrets.token_hex(8))
    password_file = parent / "password"
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    pg_ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        password_file.write_text(server.password + "\n")
        password_file.chmod(0o644)  # for initdb, running as postgres; removed below
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", server.user]
        subprocess.run(
            [*as_postgres, *initdb, "-A", "scram-sha-256", f"--pwfile={password_file}"],
            check=True,
            capture_output=True,
        )
        password_file.unlink()
        # listen_addresses='': the Unix socket in `parent` only, no TCP port to race for.
        options = f"-c listen_addresses='' -k {parent}"
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(parent / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", str(parent), "-U", server.user, server.database],
            env={**os.environ, "PGPASSWORD": server.password},
            check=True,
            capture_output=True,
        )
        yield server
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)
