"""Ctrl-C and SIGTERM stop a sweep the same way: at once, recorded, resumable.

Python turns SIGINT into KeyboardInterrupt; the sweeper installs `raise_terminated`
for SIGTERM so that a scheduler's or `kill`'s stop unwinds the same path: the
training loop saves its state and its callbacks close their files, the job records
itself as interrupted, the sweeper leaves the trial to resume and exits 130 (SIGINT)
or 143 (SIGTERM).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised wherever the process is, so it unwinds like Ctrl-C."""


class StoppedBySignal(Exception):
    """A signal stopped a training loop that had no handler of its own for it (a plain
    run's Ctrl-C, a launcher's worker: training.epoch_interrupts), once its state was
    saved. An Exception, not a KeyboardInterrupt: in a worker, Hydra's run_job records
    it as the job's failure and the launcher's call returns, where a KeyboardInterrupt
    would make joblib abort its pool and kill the other workers before they could save."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)  # its only argument: it pickles back to the sweeper
        self.signum = signum

    def __str__(self) -> str:
        return signal.Signals(self.signum).name


def raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def raise_stopped(signum: int, frame: object) -> None:
    raise StoppedBySignal(signum)


@contextmanager
def stopping_the_job_not_the_worker() -> Iterator[None]:
    """For a job's duration in a launcher's worker (SIGTERM's handler is the default
    action there), SIGTERM raises StoppedBySignal instead of ending the process: the
    job unwinds and records itself (train.py's loop first finishes its epoch and
    saves), and the worker lives, because a joblib worker that dies makes joblib kill
    its other workers at once. In the sweeper's own process (its handler is
    installed) nothing changes."""
    in_worker = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    )
    if not in_worker:
        yield
        return
    previous = signal.signal(signal.SIGTERM, raise_stopped)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def is_interruption(error: BaseException) -> bool:
    """Whether `error` is a signal's stop (Ctrl-C, SIGTERM, in process or in a worker)."""
    return isinstance(error, (KeyboardInterrupt, StoppedBySignal))


def signal_of(interrupt: BaseException) -> tuple[str, int]:
    """(signal name, conventional exit code) of an interrupt."""
    if isinstance(interrupt, StoppedBySignal):
        return signal.Signals(interrupt.signum).name, 128 + interrupt.signum
    return ("SIGTERM", 143) if isinstance(interrupt, Terminated) else ("SIGINT", 130)


class DeferredInterrupts:
    """Ctrl-C and SIGTERM for a sweep loop whose own thread writes the study: a signal
    is raised at once only inside `allowed()` (waiting for jobs, or running one in
    process); anywhere else — in the middle of a storage write, say — it is held and
    raised when the loop next enters `allowed()`, so that no write is torn.

        interrupts = DeferredInterrupts()
        with interrupts.installed():
            while ...:
                study.tell(...)            # a signal here waits
                with interrupts.allowed():
                    wait_for_jobs()        # a signal here raises at once
    """

    def __init__(self) -> None:
        self.pending: KeyboardInterrupt | None = None
        self.raise_now = False

    def handle(self, signum: int, frame: object) -> None:
        interrupt = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        if self.raise_now:
            raise interrupt
        self.pending = self.pending or interrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = {s: signal.signal(s, self.handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def raise_pending(self) -> None:
        """Raise a signal that came while it was held, if one did."""
        if self.pending is not None:
            raise self.pending

    @contextmanager
    def allowed(self) -> Iterator[None]:
        self.raise_pending()
        self.raise_now = True
        try:
            yield
        finally:
            self.raise_now = False
