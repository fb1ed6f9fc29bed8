"""hpsweep.sweep.journal_lock: the journal's symlink lock, as Optuna makes it, minus its
1 s back-off and its release of a lock it never held."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from optuna.storages.journal import JournalFileSymlinkLock

from hpsweep.sweep import journal_lock
from hpsweep.sweep.journal_lock import PromptSymlinkLock


def test_it_excludes_optunas_own_lock_on_the_same_journal(tmp_path: Path) -> None:
    journal = str(tmp_path / "study.log")
    ours = PromptSymlinkLock(journal)
    assert ours.acquire()
    theirs = JournalFileSymlinkLock(journal)
    got_it = threading.Event()
    waiter = threading.Thread(target=lambda: (theirs.acquire(), got_it.set()))
    waiter.start()
    assert not got_it.wait(0.2)  # Optuna's lock waits for ours
    ours.release()
    assert got_it.wait(5)
    waiter.join()
    theirs.release()


def test_a_waiting_process_interrupted_leaves_the_holders_lock_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = str(tmp_path / "study.log")
    holder = PromptSymlinkLock(journal)
    holder.acquire()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt  # Ctrl-C, or SIGTERM turned into it, while waiting

    monkeypatch.setattr(journal_lock.time, "sleep", interrupted)
    with pytest.raises(KeyboardInterrupt):
        PromptSymlinkLock(journal).acquire()
    assert Path(journal + ".lock").is_symlink()  # still the holder's
    holder.release()


def test_a_lock_left_by_a_dead_holder_is_broken_after_the_grace_period(tmp_path: Path) -> None:
    journal = tmp_path / "study.log"
    journal.write_text("")
    PromptSymlinkLock(str(journal)).acquire()  # its holder never releases it
    waiter = PromptSymlinkLock(str(journal))
    waiter.grace_period = 0.2  # (Optuna's constructor warns below 3 s)
    started = time.monotonic()
    assert waiter.acquire()
    assert 0.2 <= time.monotonic() - started < 5
    waiter.release()
