"""PyTorch Lightning in an hpsweep sweep: report a metric each epoch, stop when pruned,
and continue a cut trial where it stopped.

    from hpsweep.integrations.lightning import HpsweepPruning, HpsweepResume, resume_checkpoint

    trainer = pl.Trainer(
        max_epochs=cfg.trainer.epochs, callbacks=[HpsweepPruning("val_loss"), HpsweepResume()]
    )
    trainer.fit(model, train_loader, val_loader, ckpt_path=resume_checkpoint())
    return float(trainer.callback_metrics["val_loss"])

After every validation (epoch 1, 2, ...) the callback reports the logged `monitor`
value to the job's trial; when the sweep's pruner says so, it stops the Trainer the way
Lightning's own EarlyStopping does (`trainer.should_stop`), and the trial is recorded
as `pruned` at that epoch (results.csv, the study, metrics.json). Outside an hpsweep
sweep it does nothing. Requires the `lightning` extra: pytorch-lightning.

HpsweepResume saves the Trainer's own checkpoint into the trial's state folder after
every training epoch (written beside it, then renamed over it: a kill mid-write keeps
the last whole one), tagged with the job's configuration. `resume_checkpoint()` gives
it back to Lightning's own `ckpt_path` when the trial is re-launched (a sweep resumed
after a cut); None when there is none, or it cannot be read or belongs to another
configuration (one warning line naming the file), and the trial starts from epoch 0.
The finished trial's checkpoint is removed: nothing will resume it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from hpsweep import SweepTrial
from hpsweep.sweep.saved_state import error_text, warn_unusable

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "last.ckpt"
KEY = "hpsweep_config_key"  # the configuration a checkpoint was written by


class HpsweepPruning(pl.Callback):
    def __init__(self, monitor: str = "val_loss") -> None:
        super().__init__()
        self.monitor = monitor
        self.trial: SweepTrial | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.trial = SweepTrial.current()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # The sanity check's two batches are not an epoch: nothing to report.
        if self.trial is None or trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            logged = ", ".join(sorted(trainer.callback_metrics)) or "none"
            raise KeyError(
                f"HpsweepPruning: the module logs no {self.monitor!r} in validation "
                f"(logged: {logged}); log it with self.log({self.monitor!r}, ...)"
            )
        self.trial.report(_as_float(value), step=trainer.current_epoch + 1)
        if self.trial.should_prune():
            trainer.should_stop = True


class HpsweepResume(pl.Callback):
    """Saves the Trainer's checkpoint into the trial's state folder after every training
    epoch, atomically (see the module's docstring). Outside a sweep it does nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.trial: SweepTrial | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.trial = SweepTrial.current()

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if self.trial is not None:
            checkpoint[KEY] = self.trial.state_key

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.trial is None:
            return
        path = self.trial.state_dir / CHECKPOINT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{CHECKPOINT_FILE}.{os.getpid()}.tmp")
        trainer.save_checkpoint(tmp)
        os.replace(tmp, path)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.trial is not None and not self.trial.keep_state:  # ended: nothing resumes it
            (self.trial.state_dir / CHECKPOINT_FILE).unlink(missing_ok=True)


def resume_checkpoint() -> str | None:
    """The checkpoint a re-launched trial continues from, for `Trainer.fit(ckpt_path=)`:
    None outside a sweep, when there is none, or when it cannot be used."""
    trial = SweepTrial.current()
    if trial is None:
        return None
    path = trial.state_dir / CHECKPOINT_FILE
    if not path.is_file():
        return None
    why = _unusable(path, trial.state_key)
    if why:
        warn_unusable(path, why)
        return None
    log.info("resuming from %s", path)
    return str(path)


def _unusable(path: Path, key: str) -> str:
    try:
        # Lightning's own checkpoint: its hyperparameters may be objects, which
        # weights_only refuses; it is the file this job's own Trainer wrote.
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # truncated, or not torch's
        return f"it cannot be read ({error_text(error)})"
    if not isinstance(checkpoint, dict) or checkpoint.get(KEY) != key:
        return "it was written by another configuration"
    return ""


def _as_float(value: Any) -> float:
    return float(value.item() if hasattr(value, "item") else value)
