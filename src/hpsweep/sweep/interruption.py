"""Ctrl-C and SIGTERM stop a sweep the same way: at once, recorded, resumable.

Python turns SIGINT into KeyboardInterrupt; the sweeper installs `raise_terminated`
for SIGTERM so that a scheduler's or `kill`'s stop unwinds the same path: the
training loop's callbacks close their files, Hydra records the job as failed, the
sweeper queues the trial again and exits 130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised wherever the process is, so it unwinds like Ctrl-C."""


def raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def signal_of(interrupt: BaseException) -> tuple[str, int]:
    """(signal name, conventional exit code) of an interrupt."""
    return ("SIGTERM", 143) if isinstance(interrupt, Terminated) else ("SIGINT", 130)
