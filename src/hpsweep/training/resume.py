"""train.py's whole state, saved as it trains and loaded when its run is re-launched.

    keeper = StateKeeper(StateFile(output_dir / STATE_DIR, config_key(cfg)))
    resumed = keeper.resume(parts, run, clock)   # False: nothing (usable) saved, epoch 0
    ... each epoch: keeper.after_epoch(parts, run, clock, force=a_signal_is_held)
    keeper.finish(parts, run, clock, keep=False)  # it ended: its state is not needed

A state is everything the next epoch depends on: the model, optimizer and schedule,
every training callback's state (early stopping's counter and best, the best
checkpoint's best, TensorBoard's unwritten scalars), the random states (Python,
NumPy, torch, the batch-order generator), the epoch, and the run's clock. Restored,
the run continues as if it had never stopped: on the CPU, the same values to the bit.

How often (`SaveCadence`): a save costs what it costs (a few ms for the models of a
sweep, seconds for large ones), so the loop saves when the time since the last save
is at least 100 times what that save took, and at least every 60 seconds; always when
a signal is held (training.epoch_interrupts). Why 100 for a 2% budget: measured in the
loop, a save slows the epochs around it by about as much again as it takes itself
(digits MLP, in process: 2.1 ms a save, 3.3% of the loop at 1 save per 50x its cost);
so its own time is held to 1%, and the whole to about 2%.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hpsweep.sweep.saved_state import SavedState, StateFile, error_text
from hpsweep.training.callbacks import RunState

log = logging.getLogger(__name__)

SAVE_SHARE = 0.01  # of training time spent in saves themselves (their cost: ~2x that)
MAX_SAVE_INTERVAL = 60.0  # seconds: what a kill -9 may cost at most (plus an epoch)


@dataclass
class SaveCadence:
    """When the next save is due: pure arithmetic on the monotonic clock.

    >>> cadence = SaveCadence()
    >>> cadence.due(now=0.0)                  # nothing measured yet: save, and measure
    True
    >>> cadence.saved(began=0.0, ended=0.01)  # that save took 10 ms
    >>> cadence.due(now=0.9), cadence.due(now=1.01)
    (False, True)
    """

    share: float = SAVE_SHARE
    max_interval: float = MAX_SAVE_INTERVAL
    last_end: float | None = None
    last_cost: float = 0.0

    def interval(self) -> float:
        return min(self.max_interval, self.last_cost / self.share)

    def due(self, now: float) -> bool:
        return self.last_end is None or now - self.last_end >= self.interval()

    def saved(self, began: float, ended: float) -> None:
        self.last_cost, self.last_end = ended - began, ended


@dataclass
class SessionClock:
    """A run's start and training seconds across the sessions it was re-launched in."""

    started: str
    seconds_before: float  # trained in earlier sessions
    session_start: float  # time.perf_counter() when this session began

    def seconds(self) -> float:
        return self.seconds_before + time.perf_counter() - self.session_start


class StateKeeper:
    def __init__(self, states: StateFile, cadence: SaveCadence | None = None) -> None:
        self.states = states
        self.cadence = cadence or SaveCadence()
        self.saves = 0
        self.save_seconds = 0.0  # time spent saving, for the loop's own accounting
        self.restore_failed = False  # a state was loaded but did not fit: rebuild the parts
        self.saved_step: int | None = None  # the epoch of the last state saved

    def resume(
        self,
        parts: Any,
        run: RunState,
        clock: SessionClock,
        inherit: Callable[[], SavedState | None] | None = None,
    ) -> bool:
        """Load the last saved state into `parts`, `run` and `clock`; False when there is
        none or it does not fit these parts (one warning: then rebuild them, epoch 0).
        With none of its own, a PBT segment's run takes the state `inherit` gives (its
        member's, or an exploited member's) with this run's hyperparameters."""
        saved, adopted = self.states.load(), False
        if saved is None and inherit is not None:
            saved, adopted = inherit(), True
        if saved is None:
            return False
        try:
            if adopted:
                adopt(parts, run, saved.state)
            else:
                restore(parts, run, clock, saved.state)
        except Exception as error:  # another model shape, another set of callbacks
            self.states.unusable(f"it does not fit this run ({error_text(error)})")
            self.restore_failed = True
            return False
        log.info(
            "%s: epoch %d done",
            "continues a PBT segment's state" if adopted else f"resumed from {self.states.path}",
            run.epoch,
        )
        return True

    def after_epoch(self, parts: Any, run: RunState, clock: SessionClock, force: bool) -> None:
        """Save the state of the epoch just ended, if one is due (or `force`)."""
        if not (force or self.cadence.due(time.monotonic())):
            return
        self.save(parts, run, clock)
        for callback in parts.callbacks:
            callback.on_state_saved(run)

    def save(self, parts: Any, run: RunState, clock: SessionClock) -> None:
        began = time.monotonic()
        self.states.save(capture(parts, run, clock), step=run.epoch)
        self.saved_step = run.epoch
        ended = time.monotonic()
        self.cadence.saved(began, ended)
        self.saves += 1
        self.save_seconds += ended - began

    def finish(self, parts: Any, run: RunState, clock: SessionClock, keep: bool) -> None:
        """The run ended (not cut): nothing will resume it, its state goes; or, `keep`
        (hydra.sweeper.keep_state), its last epoch's state is saved and stays."""
        if not keep:
            self.states.remove()
        elif self.saved_step != run.epoch:
            self.save(parts, run, clock)


def capture(parts: Any, run: RunState, clock: SessionClock) -> dict[str, Any]:
    """Everything the next epoch depends on, as torch.save(weights_only) data."""
    return {
        "model": parts.model.state_dict(),
        "optimizer": parts.optimizer.state_dict(),
        "scheduler": None if parts.scheduler is None else parts.scheduler.state_dict(),
        "callbacks": [{"type": type(c).__name__, "state": c.state_dict()} for c in parts.callbacks],
        "random": random_states(parts.generator),
        "run": {
            "epoch": run.epoch,
            "summary": dict(run.summary),
            "last": dict(run.last_metrics),
            "started": clock.started,
            "seconds": clock.seconds(),
        },
    }


def restore(parts: Any, run: RunState, clock: SessionClock | None, state: dict[str, Any]) -> None:
    types = [c["type"] for c in state["callbacks"]]
    if types != [type(c).__name__ for c in parts.callbacks]:
        raise ValueError(f"it was saved with the callbacks {types}")
    parts.model.load_state_dict(state["model"])
    parts.optimizer.load_state_dict(state["optimizer"])
    if parts.scheduler is not None:
        parts.scheduler.load_state_dict(state["scheduler"])
    for callback, saved in zip(parts.callbacks, state["callbacks"], strict=True):
        callback.load_state_dict(saved["state"])
    set_random_states(parts.generator, state["random"])
    run.epoch = state["run"]["epoch"]
    run.summary.update(state["run"]["summary"])
    run.last_metrics.update(state["run"]["last"])
    if clock is not None:  # None: another run's state (adopt): this run's clock is its own
        clock.started = state["run"]["started"]
        clock.seconds_before = state["run"]["seconds"]


def adopt(parts: Any, run: RunState, state: dict[str, Any]) -> None:
    """Another run's state (PBT: the state a segment starts from) under this run's own
    hyperparameters: restored, then the optimizer's groups get the configured values
    again (a restored optimizer brings its own lr, weight decay, ...) and a schedule
    continues from its epoch with the configured base learning rate."""
    configured = [
        {key: value for key, value in group.items() if key != "params"}
        for group in parts.optimizer.param_groups
    ]
    restore(parts, run, None, state)
    for group, own in zip(parts.optimizer.param_groups, configured, strict=True):
        group.update(own)
    if parts.scheduler is not None:
        parts.scheduler.base_lrs = [g.get("initial_lr", g["lr"]) for g in configured]


def random_states(generator: torch.Generator) -> dict[str, Any]:
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (name, keys.tolist(), position, has_gauss, cached),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "generator": generator.get_state(),
    }


def set_random_states(generator: torch.Generator, states: dict[str, Any]) -> None:
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), position, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    generator.set_state(states["generator"])
