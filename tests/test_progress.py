"""The sweep's progress line: the pure arithmetic by tables, the plain log line off a
terminal, and tqdm's live line on a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import select
import struct
import sys
import termios

import pytest

from hpsweep.search.progress import (
    SweepProgress,
    clock_text,
    progress_line,
    remaining_seconds,
)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (61.4, "1:01"), (3599.6, "1:00:00"), (3723, "1:02:03")]
)
def test_clock_text(seconds: float, text: str) -> None:
    assert clock_text(seconds) == text


@pytest.mark.parametrize(
    ("done", "done_before", "total", "elapsed", "left"),
    [
        (0, 0, 10, 5.0, None),  # nothing done yet: no pace to go by
        (2, 0, 10, 10.0, 40.0),
        (10, 0, 10, 50.0, 0.0),
        (6, 4, 10, 10.0, 20.0),  # resumed: 2 trials in 10 s, 4 to go
        (4, 4, 10, 3.0, None),  # resumed, none done in this session yet
        (12, 0, 10, 6.0, 0.0),  # more than planned (another process shares the study)
    ],
)
def test_remaining_time_at_this_sessions_pace(
    done: int, done_before: int, total: int, elapsed: float, left: float | None
) -> None:
    assert remaining_seconds(done, done_before, total, elapsed) == left


def test_the_plain_line_when_stderr_is_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    progress = SweepProgress(10, stream=io.StringIO(), clock=lambda: now[0])
    now[0] = 130.0
    with caplog.at_level(logging.INFO):
        progress.update(3, "best 0.1 (trial 2)", {"complete": 2, "pruned": 1})
    progress.close()
    expected = "[3/10] best 0.1 (trial 2); 2 complete, 1 pruned; 0:30 elapsed, ~1:10 left"
    assert [r.getMessage() for r in caplog.records] == [expected]
    assert expected == progress_line(
        3, 10, "best 0.1 (trial 2)", {"complete": 2, "pruned": 1}, 30, 70
    )


def read_all(fd: int) -> str:
    """Everything written to the terminal so far: a pty hands it over in pieces, one
    read may return only the first."""
    chunks = []
    while select.select([fd], [], [], 0.5)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_a_live_line_on_a_terminal_with_printed_lines_above_it() -> None:
    main, child = pty.openpty()
    # A terminal of 0 columns (a bare pty's) gets an empty bar: give it a real size.
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    terminal = os.fdopen(child, "w")
    stdout = sys.stdout
    try:
        sys.stdout = terminal  # the job's console, on the same terminal
        progress = SweepProgress(4, stream=terminal)
        print("epoch 1/2 of trial 0")  # through tqdm.write: the bar is cleared first
        progress.update(1, "best 0.5 (trial 0)", {"complete": 1})
        progress.close()
        assert sys.stdout is terminal  # restored
    finally:
        sys.stdout = stdout
        terminal.flush()
        shown = read_all(main)
        terminal.close()
        os.close(main)
    assert "0/4" in shown and "epoch 1/2 of trial 0" in shown
    assert shown.index("0/4") < shown.index("epoch 1/2") < shown.index("1/4")
    assert "best 0.5 (trial 0) · 1 complete" in shown
