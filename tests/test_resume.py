"""A run resumes where it stopped: its saved state, when it is saved, and what a signal
does mid-epoch. Tables for the arithmetic and the state file; real signals to this
process for the epoch's hold; train.py in subprocesses, cut by real signals and
re-launched, for the whole contract (the same value as a run never cut, to 1e-6).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hpsweep.sweep.interruption import StoppedBySignal, Terminated
from hpsweep.sweep.saved_state import StateFile, config_key
from hpsweep.training.epoch_interrupts import EpochInterrupts
from hpsweep.training.resume import SaveCadence
from tests.sweep_files import epochs_logged, start_train
from tests.test_cli import run_train

# -- when a save is due: (last save's cost, seconds since it ended) -> due? ------------
CADENCE = [
    (0.010, 0.99, False),  # 10 ms a save: every 1 s keeps the saves to 1% (2% in all)
    (0.010, 1.01, True),
    (2.000, 59.0, False),  # 2 s a save: 200 s would do for 1%, but 60 s is the most
    (2.000, 60.01, True),
    (0.000, 0.00, True),  # free: every epoch
]


@pytest.mark.parametrize(("cost", "since", "due"), CADENCE)
def test_a_save_is_due_within_one_percent_and_sixty_seconds(
    cost: float, since: float, due: bool
) -> None:
    cadence = SaveCadence()
    assert cadence.due(now=100.0)  # nothing measured yet: the first epoch saves
    cadence.saved(began=100.0, ended=100.0 + cost)
    assert cadence.due(now=100.0 + cost + since) is due


# -- the state file -------------------------------------------------------------------
def write_garbage(path: Path) -> None:
    path.write_bytes(b"not a torch file")


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def foreign_record(path: Path) -> None:
    torch.save({"weights": torch.zeros(2)}, path)


BAD_STATES: list[tuple[str, Callable[[Path], None], str]] = [
    ("truncated", truncate, "it cannot be read"),
    ("not-torch", write_garbage, "it cannot be read"),
    ("not-hpsweep", foreign_record, "it is not an hpsweep state"),
]


def test_a_state_round_trips_and_replaces_the_last_atomically(tmp_path: Path) -> None:
    states = StateFile(tmp_path / "state", key="abc")
    assert states.load() is None  # nothing saved: start from step 0
    states.save({"w": torch.arange(3.0), "epoch": 1}, step=1)
    states.save({"w": torch.arange(4.0), "epoch": 2}, step=2)
    saved = states.load()
    assert saved is not None and saved.step == 2
    assert torch.equal(saved.state["w"], torch.arange(4.0))
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["last.pt"]  # no temp


@pytest.mark.parametrize(
    ("spoil", "why"), [(s, w) for _, s, w in BAD_STATES], ids=[i for i, *_ in BAD_STATES]
)
def test_a_bad_state_is_one_warning_naming_the_file_and_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, spoil: Callable[[Path], None], why: str
) -> None:
    states = StateFile(tmp_path / "state", key="abc")
    states.save({"w": torch.arange(1000.0)}, step=3)
    spoil(states.path)
    with caplog.at_level(logging.WARNING):
        assert states.load() is None
    [record] = caplog.records
    assert str(states.path) in record.getMessage() and why in record.getMessage()
    assert "\n" not in record.getMessage()


def test_a_state_of_another_configuration_is_never_loaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    written = config_key({"optimizer": {"lr": 0.001}})
    other = config_key({"optimizer": {"lr": 0.003}})
    assert written != other and written == config_key({"optimizer": {"lr": 0.001}})
    StateFile(tmp_path, written).save({"w": 1}, step=5)
    with caplog.at_level(logging.WARNING):
        assert StateFile(tmp_path, other).load() is None
    assert "written by another configuration" in caplog.text


# -- a signal mid-epoch waits for the epoch's end --------------------------------------
def send(signum: int) -> None:
    os.kill(os.getpid(), signum)
    signal.sigtimedwait([], 0.2)  # let the handler run now


@contextmanager
def handler(signum: int, action: Any) -> Iterator[None]:
    """`action` handles `signum` for the block's length; then the one before it again."""
    previous = signal.signal(signum, action)
    try:
        yield
    finally:
        signal.signal(signum, previous)


def sweeper_handler(signum: int, frame: object) -> None:
    raise Terminated  # what the in-process sweeper's handler does


# (the handler before the loop's, the signal) -> what deliver() raises
DELIVERED = [
    (sweeper_handler, signal.SIGTERM, Terminated),
    (signal.SIG_DFL, signal.SIGTERM, StoppedBySignal),  # a worker: it lives on
    (signal.default_int_handler, signal.SIGINT, StoppedBySignal),  # a plain run's Ctrl-C
]


@pytest.mark.parametrize(("before", "signum", "raised"), DELIVERED)
def test_a_signal_is_held_until_the_epoch_ends_then_handed_on(
    before: object, signum: int, raised: type
) -> None:
    with handler(signum, before):
        interrupts = EpochInterrupts()
        with interrupts.installed():
            send(signum)  # mid-epoch: nothing raised
            send(signum)  # the same stop reaching us twice (a terminal's, the sweeper's)
            assert interrupts.pending
            with pytest.raises(raised):
                interrupts.deliver()  # the epoch ended and its state was saved
        assert signal.getsignal(signum) is before  # put back


def test_a_later_second_signal_does_not_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python's own Ctrl-C handler, even when the suite started with SIGINT ignored
    interrupts = EpochInterrupts()
    with handler(signal.SIGINT, signal.default_int_handler), interrupts.installed():
        send(signal.SIGINT)
        monkeypatch.setattr(time, "monotonic", lambda: interrupts.held_at + 10)
        with pytest.raises(KeyboardInterrupt):
            send(signal.SIGINT)


def test_an_ignored_signal_stays_ignored() -> None:
    interrupts = EpochInterrupts()
    with handler(signal.SIGINT, signal.SIG_IGN), interrupts.installed():
        send(signal.SIGINT)
        assert not interrupts.pending


# -- train.py cut and re-launched --------------------------------------------------------
EPOCHS = 40
RUN = ("data=synthetic", f"trainer.epochs={EPOCHS}", "~callbacks.early_stopping")


def start_run(run_dir: Path, cwd: Path) -> subprocess.Popen[str]:
    return start_train(*RUN, f"hydra.run.dir={run_dir}", cwd=cwd)


def wait_for_epoch(run_dir: Path, epoch: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        log = run_dir / "train.log"
        if log.exists() and f"epoch {epoch:2d}/{EPOCHS}" in log.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"{run_dir} never reached epoch {epoch}; exit {process.poll()}")


def epochs_trained(run_dir: Path) -> list[int]:
    """Every epoch the run's log says it trained, across the sessions it ran in."""
    return epochs_logged((run_dir / "train.log").read_text(), EPOCHS)


def steps_in_tensorboard(run_dir: Path) -> list[int]:
    events = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    events.Reload()
    return [event.step for event in events.Tensors("val/loss")]


def value(run_dir: Path) -> float:
    return json.loads((run_dir / "metrics.json").read_text())["value"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> float:
    """The value of the run never cut, to compare the cut ones with."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    result = run_train(*RUN, f"hydra.run.dir={tmp / 'run'}", cwd=tmp)
    assert result.returncode == 0, result.stderr
    return value(tmp / "run")


@pytest.mark.long
@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_run_cut_by_a_signal_continues_with_one_override_and_loses_nothing(
    tmp_path: Path, uninterrupted: float, signum: signal.Signals, exit_code: int
) -> None:
    run_dir = tmp_path / "run"
    process = start_run(run_dir, tmp_path)
    wait_for_epoch(run_dir, 10, process)
    process.send_signal(signum)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == exit_code, output
    assert f"continue with the same command and hydra.run.dir={run_dir}" in output
    assert not (run_dir / "metrics.json").exists()

    result = run_train(*RUN, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert value(run_dir) == pytest.approx(uninterrupted, abs=1e-6)
    assert sorted(epochs_trained(run_dir)) == list(range(1, EPOCHS + 1))  # each once
    assert steps_in_tensorboard(run_dir) == list(range(1, EPOCHS + 1))
    assert not (run_dir / "state" / "last.pt").exists()  # ended: nothing to resume


@pytest.mark.long
def test_a_killed_run_retrains_only_what_came_after_its_last_save(
    tmp_path: Path, uninterrupted: float
) -> None:
    run_dir = tmp_path / "run"
    process = start_run(run_dir, tmp_path)
    wait_for_epoch(run_dir, 10, process)
    process.kill()
    process.communicate(timeout=60)
    before_kill = epochs_trained(run_dir)
    saved_at = torch.load(run_dir / "state" / "last.pt", weights_only=True)["step"]
    assert 1 <= saved_at <= before_kill[-1]

    result = run_train(*RUN, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert value(run_dir) == pytest.approx(uninterrupted, abs=1e-6)
    # what came after the last save is trained again, nothing before it
    assert epochs_trained(run_dir) == before_kill + list(range(saved_at + 1, EPOCHS + 1))
    assert steps_in_tensorboard(run_dir) == list(range(1, EPOCHS + 1))


def test_a_corrupt_state_is_one_warning_and_the_run_starts_from_epoch_0(
    tmp_path: Path, uninterrupted: float
) -> None:
    run_dir = tmp_path / "run"
    state = run_dir / "state" / "last.pt"
    state.parent.mkdir(parents=True)
    state.write_bytes(b"\x80\x02 half a state")
    result = run_train(*RUN, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = (result.stdout + result.stderr).splitlines()
    [warning] = [line for line in printed if "ignoring the saved state" in line]
    assert str(state) in warning and "starting from step 0" in warning
    assert epochs_trained(run_dir) == list(range(1, EPOCHS + 1))
    assert value(run_dir) == pytest.approx(uninterrupted, abs=1e-6)


@pytest.mark.parametrize(("keep_state", "kept"), [("false", False), ("true", True)])
def test_a_finished_trial_keeps_its_state_only_when_asked(
    tmp_path: Path, keep_state: str, kept: bool
) -> None:
    sweep = tmp_path / "sweep"
    result = run_train(
        *("-m", "hydra/sweeper=random", "optimizer.lr=choice(0.001,0.003)"),
        *("hydra.sweeper.n_trials=2", "data=synthetic", "trainer.epochs=2"),
        *(f"hydra.sweeper.keep_state={keep_state}", "hydra.sweeper.report=false"),
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    states = sorted(sweep.glob("*/state/last.pt"))
    assert len(states) == (2 if kept else 0)
    [disk] = [line for line in result.stdout.splitlines() if "on disk: " in line]
    assert disk.endswith("(saved training states: 0 B)") is not kept, disk
    if kept:  # a kept state is the finished trial's last epoch, loadable as it is
        saved = StateFile(states[0].parent, "any").path
        assert torch.load(saved, weights_only=True)["step"] == 2
