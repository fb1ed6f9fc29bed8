from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from torch import nn

from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hpsweep.tensorboard.hparams import HParamValue


@dataclass
class RunState:
    """What callbacks may read of a run, and the one thing they may change: stopping it."""

    cfg: DictConfig
    model: nn.Module
    output_dir: Path
    # Hyperparameters of this run as TensorBoard shows them (see hpsweep.tensorboard.hparams).
    hparams: dict[str, HParamValue] = field(default_factory=dict)
    epoch: int = 0
    max_epochs: int = 0
    stop_reason: RunStatus | None = None
    # Set by callbacks for the final metrics, e.g. the best value and its epoch.
    summary: dict[str, Any] = field(default_factory=dict)
    last_metrics: dict[str, float] = field(default_factory=dict)  # the last epoch's
    # The loop saves its state as it trains (training.resume): callbacks that write
    # files per epoch may hold them until `on_state_saved`, so that what is on disk
    # never runs ahead of the state a re-launched run continues from.
    saves_state: bool = False
    interrupted: bool = False  # a signal cut the run: it will continue, not end
    # A PBT segment ended (SweepTrial.stop_at): the member continues in another job,
    # from the state saved now, so nothing final happens (no best weights restored).
    paused: bool = False
    # Where TensorBoard writes: a PBT member's folder, shared by its segments' jobs.
    log_dir: Path | None = None

    def stop(self, reason: RunStatus) -> None:
        """Ask the loop to stop after this epoch; the first reason given wins."""
        if self.stop_reason is None:
            self.stop_reason = reason


class TrainingCallback:
    """Hooks called by the training loop, in the order the config lists callbacks."""

    def on_fit_start(self, run: RunState) -> None:
        """Before the first epoch."""

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        """After each epoch's validation; `run.stop(...)` ends training after it."""

    def on_fit_end(self, run: RunState, status: RunStatus) -> None:
        """After the last epoch, before the final evaluation; also when training raised."""

    def on_train_end(self, run: RunState, outcome: TrialOutcome) -> None:
        """After the final evaluation, with the outcome train() returns (the final
        model's metrics); also when training or the evaluation raised (failed, no
        metrics), and when a signal cut it (`run.interrupted`: it will be resumed)."""

    def on_state_saved(self, run: RunState) -> None:
        """Right after the loop saved its state at the end of `run.epoch`."""

    def state_dict(self) -> dict[str, Any]:
        """What this callback needs to continue a resumed run (torch.save data)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from what `state_dict` returned in an earlier session."""
