"""Signals in the sweep loop: raised at once while it waits, held while it writes."""

from __future__ import annotations

import os
import signal

import pytest

from hpsweep.sweep.interruption import DeferredInterrupts, Terminated, signal_of


@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)]
)
def test_a_signal_while_waiting_raises_at_once(signum: int, raised: type) -> None:
    interrupts = DeferredInterrupts()
    with interrupts.installed(), pytest.raises(raised), interrupts.allowed():
        os.kill(os.getpid(), signum)
        signal.sigtimedwait([], 0.5)  # let the handler run here, inside allowed()


@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")]
)
def test_a_signal_while_writing_waits_for_the_next_wait(signum: int, name: str) -> None:
    interrupts = DeferredInterrupts()
    with interrupts.installed():
        os.kill(os.getpid(), signum)  # "in the middle of a write": nothing raised
        written = True
        with pytest.raises(KeyboardInterrupt) as caught, interrupts.allowed():
            raise AssertionError("allowed() must raise the held signal before its block")
    assert written
    assert signal_of(caught.value)[0] == name


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with DeferredInterrupts().installed():
        pass
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
