"""optuna-dashboard, the real server, on loopback: started on a storage with port 0 (the
kernel picks a free port, so no other process can take it between a probe and the
bind), and the port read back from the process's own listening socket."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LISTEN = "0A"  # the TCP state LISTEN in /proc/net/tcp


def listening_ports(pid: int) -> list[int]:
    """Ports the process listens on over TCP (IPv4 and IPv6), from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # an fd closed while we look
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN and fields[9] in inodes:
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@contextlib.contextmanager
def dashboard(storage: str, deadline_s: float = 90) -> Iterator[str]:
    """The base URL of an optuna-dashboard serving `storage`; stopped on exit."""
    command = [str(Path(sys.executable).with_name("optuna-dashboard")), storage]
    command += ["--host", "127.0.0.1", "--port", "0", "--server", "wsgiref"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + deadline_s
        while not (ports := listening_ports(process.pid)):
            if process.poll() is not None:
                raise AssertionError(f"optuna-dashboard exited: {process.stdout.read()!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"optuna-dashboard did not listen within {deadline_s} s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{ports[0]}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def get_json(url: str) -> Any:
    """GET and decode; an HTTP error status raises (urllib's HTTPError) at once."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)
