"""Ctrl-C and SIGTERM held until the epoch ends, so that a cut run saves a whole epoch.

A signal that stopped training mid-epoch would leave a half-trained epoch: the state
saved then would be neither the last epoch's nor the next one's. So while training,
SIGINT and SIGTERM are held; at the end of the epoch the loop saves its state and
`deliver()` hands the signal on:

    the handler before the loop's                 deliver()
    one of the app's or the sweeper's own         calls it (they raise: the sweep in
      (a sweep's job in the sweeper's process;      this process stops; submitit
      submitit's on its preemption signal)          requeues the job and exits)
    Python's Ctrl-C handler or the default        raises StoppedBySignal: the job
      action (a plain run; a launcher's worker)     unwinds and records itself as
                                                    interrupted; a worker lives on
    ignored (SIG_IGN)                             never held: it stays ignored

Why a worker must not die of it: a joblib worker that dies makes joblib kill its
other workers at once, before they could finish their epoch and save; and a
KeyboardInterrupt out of a job makes it abort its pool the same way.

Signals within ONE_STOP_SECONDS of the held one are the same stop (a terminal's
Ctrl-C reaches every process of its group, and the sweeper then tells its workers
too). A later one does not wait: it is raised at once (an impatient Ctrl-C-Ctrl-C
loses the epochs since the last periodic save, never more).

Only the main thread can install signal handlers; a loop run in another thread keeps
the process's handlers (and its periodic saves).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hpsweep.sweep.interruption import StoppedBySignal, Terminated

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The signal a job gets before preemption or its time limit, where submitit (Hydra's
# submitit launcher: Slurm, or its local executor) installed its requeue handler on it;
# held too, so that the requeued job continues from the end of the epoch it was in.
PREEMPTION_SIGNAL = getattr(signal, "SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2"))
ONE_STOP_SECONDS = 2.0


def interrupt_of(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


class EpochInterrupts:
    def __init__(self) -> None:
        self.held: int | None = None  # the signal waiting for the epoch's end
        self.held_at = 0.0  # when it came (time.monotonic())
        self.previous: dict[int, Any] = {}

    @property
    def pending(self) -> bool:
        return self.held is not None

    @contextmanager
    def installed(self) -> Iterator[EpochInterrupts]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        for signum in SIGNALS:
            if signal.getsignal(signum) != signal.SIG_IGN:
                self.previous[signum] = signal.signal(signum, self.hold)
        if callable(signal.getsignal(PREEMPTION_SIGNAL)):  # submitit's checkpoint-and-requeue
            self.previous[PREEMPTION_SIGNAL] = signal.signal(PREEMPTION_SIGNAL, self.hold)
        try:
            yield self
        finally:
            self.restore()

    def hold(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        if self.held is None:
            self.held, self.held_at = signum, now
        elif now - self.held_at > ONE_STOP_SECONDS:
            raise interrupt_of(signum)

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}

    def deliver(self) -> None:
        """Hand a held signal on (see the module's table); nothing if none is held."""
        if self.held is None:
            return
        signum, self.held = self.held, None
        handler = self.previous.get(signum, signal.SIG_DFL)
        self.restore()
        if callable(handler) and handler is not signal.default_int_handler:
            handler(signum, None)  # the sweeper's, train.py's: they raise
        raise StoppedBySignal(signum)
