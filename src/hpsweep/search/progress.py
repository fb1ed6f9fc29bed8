"""A sweep's progress: trials done of the total, the best so far, counts per status,
elapsed time and an estimate of the time left.

In a terminal (stderr is a TTY) it is one live tqdm line at the bottom of the screen:

    sweep:  45%|███▌  | 9/20 [00:41<00:50, 4.6s/trial, best 0.0982 (trial 1) · 5 complete, 4 pruned]

and the trials' own log lines scroll above it (while the bar is up, sys.stdout goes
through tqdm.write, and Hydra's logging, configured afresh by each in-process job,
writes there; a launcher's worker processes write straight to the terminal).
Anywhere else (a file, a pipe, CI) each trial's end logs one plain line:

    [9/20] best 0.0982 (trial 1); 5 complete, 4 pruned; 0:41 elapsed, ~0:50 left
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from hpsweep.search.tally import REFRESH_SECONDS, StudyTally

log = logging.getLogger(__name__)


def clock_text(seconds: float) -> str:
    """1:02:03, or 2:03 under an hour."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def remaining_seconds(done: int, done_before: int, total: int, elapsed: float) -> float | None:
    """Time left at this session's pace (trials done before it, in a resumed sweep, do
    not count toward the pace); None before this session has finished a trial."""
    done_here = done - done_before
    if done_here <= 0:
        return None
    return max(total - done, 0) * elapsed / done_here


def counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {word}" for word, n in counts.items())


def progress_line(
    done: int, total: int, best: str, counts: Mapping[str, int], elapsed: float, left: float | None
) -> str:
    """The plain line logged after each trial when no terminal shows a live one."""
    eta = "" if left is None else f", ~{clock_text(left)} left"
    timing = f"{clock_text(elapsed)} elapsed{eta}"
    return f"[{done}/{total}] {best}; {counts_text(counts)}; {timing}"


class SweepProgress:
    """Progress of one sweep session: `update` after each trial, `close` at the end."""

    def __init__(
        self,
        total: int,
        done_before: int = 0,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.done_before = done_before
        self.clock = clock
        self.started = clock()
        self.stream = sys.stderr if stream is None else stream
        self.bar: Any = None
        self.tally: StudyTally | None = None
        self.read_at = 0.0
        self._redirect = contextlib.ExitStack()
        if _is_terminal(self.stream):
            self._open_bar()

    def _open_bar(self) -> None:
        from tqdm import tqdm
        from tqdm.contrib import DummyTqdmFile

        self.bar = tqdm(
            total=self.total,
            initial=self.done_before,
            file=self.stream,
            desc="sweep",
            unit="trial",
            dynamic_ncols=True,
            postfix="no trial done yet",
        )
        if _is_terminal(sys.stdout):
            # Lines printed while the bar is up are written above it, not through it:
            # tqdm.write clears and redraws the bars of the stream it writes to, so the
            # terminal's stdout lines go to it through the bar's own stream.
            self._redirect.enter_context(contextlib.redirect_stdout(DummyTqdmFile(self.stream)))

    def trial_ended(
        self, study: Any, number: int, word: str, study_value: float | list[float] | None
    ) -> None:
        """After trial `number` is recorded (`word`: its status; `study_value`: the value
        the study was told, if any): done, best and counts as the study holds them,
        trials of other processes sharing it included, read afresh at most every
        REFRESH_SECONDS (hpsweep.search.tally) and kept up to date in between."""
        now = self.clock()
        if self.tally is None or now - self.read_at >= REFRESH_SECONDS:
            self.tally, self.read_at = StudyTally.read(study), now
        else:
            self.tally.add(number, word, study_value)
        self.update(self.tally.done, self.tally.best_text(), self.tally.counts)

    def update(self, done: int, best: str, counts: Mapping[str, int]) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{best} · {counts_text(counts)}", refresh=False)
            self.bar.update(done - self.bar.n)
            self.bar.refresh()  # update() alone redraws only after its minimum interval
            return
        elapsed = self.clock() - self.started
        left = remaining_seconds(done, self.done_before, self.total, elapsed)
        log.info("%s", progress_line(done, self.total, best, counts, elapsed, left))

    def close(self) -> None:
        self._redirect.close()
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False
