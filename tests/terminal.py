"""Running a command in a real pseudo-terminal, as a user's shell would: stdout and
stderr are a TTY of a fixed size, so tqdm draws its live line."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

COLUMNS, ROWS = 160, 40


def run_in_terminal(command: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """(exit code, everything the terminal showed), or AssertionError past `timeout`."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["COLUMNS"] = str(COLUMNS)
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=child, stdout=child, stderr=child, close_fds=True
    )
    os.close(child)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{command} ran past {timeout} s; it showed:\n{shown[-2000:]}")
            ready, _, _ = select.select([main], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not chunk:
                break
            shown += chunk
        return process.wait(timeout=max(deadline - time.monotonic(), 1)), shown.decode()
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait()
