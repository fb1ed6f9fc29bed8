"""The journal file's lock: Optuna's symlink lock, retried promptly so no writer starves.

Optuna's JournalFileSymlinkLock retries a held lock after 1 ms, 2 ms, 4 ms, ... up to
1 s between tries. With 8 processes writing one journal (a sweep's jobs reporting every
epoch, two sweeps sharing a study), the lock is held most of the time; a process that
has backed off to 1 s finds it held at nearly every try and waited 11 s for one write
in bench/journal_load.py, Optuna warning "It is taking longer than 10.0 seconds to
acquire the lock file" in the sweep's log. This lock retries every few milliseconds
with random jitter instead, so every waiting process gets its turn.

It is the same lock on disk — a symbolic link `<journal>.lock` made with symlink(2),
atomic on NFS too — so processes using Optuna's class (optuna-dashboard, a script
of your own) still exclude each other with hpsweep's. And it never removes a link it
did not make: Optuna's acquire releases the lock when interrupted while *waiting*
(Ctrl-C, or SIGTERM, which hpsweep turns into KeyboardInterrupt), deleting another
process's lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time

from optuna.storages.journal import JournalFileSymlinkLock

log = logging.getLogger(__name__)

RETRY_SECONDS = 0.002  # mean pause between tries; a journal write holds the lock ~1-5 ms
WARN_EVERY_SECONDS = 10.0


class PromptSymlinkLock(JournalFileSymlinkLock):
    """JournalFileSymlinkLock that retries every ~RETRY_SECONDS (not up to 1 s)."""

    def acquire(self) -> bool:
        started = last_warning = time.monotonic()
        mtime, unchanged_since = None, started
        while True:
            try:
                os.symlink(self._lock_target_file, self._lock_file)
                return True
            except FileExistsError:
                pass
            now = time.monotonic()
            if self.grace_period is not None:
                # As Optuna does: a holder that died leaves its link behind; once the
                # journal it points to has not changed for grace_period, break the lock.
                try:
                    current: float | None = os.stat(self._lock_file).st_mtime
                except FileNotFoundError:
                    if not os.path.lexists(self._lock_file):
                        continue  # released just now: try again at once
                    current = None  # a link to no journal: only its age counts
                if current != mtime:
                    mtime, unchanged_since = current, now
                elif now - unchanged_since > self.grace_period:
                    log.warning("breaking the journal lock %s: held too long", self._lock_file)
                    with contextlib.suppress(RuntimeError):  # someone else broke it first
                        self.release()
                    unchanged_since = now
                    continue
            if now - last_warning > WARN_EVERY_SECONDS:
                log.warning("waited %.0f s for the journal lock %s", now - started, self._lock_file)
                last_warning = now
            time.sleep(random.uniform(0.5, 1.5) * RETRY_SECONDS)
