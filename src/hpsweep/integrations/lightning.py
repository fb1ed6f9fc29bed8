"""PyTorch Lightning in an hpsweep sweep: report a metric each epoch, stop when pruned.

    from hpsweep.integrations.lightning import HpsweepPruning

    trainer = pl.Trainer(max_epochs=cfg.trainer.epochs, callbacks=[HpsweepPruning("val_loss")])
    trainer.fit(model, train_loader, val_loader)
    return float(trainer.callback_metrics["val_loss"])

After every validation (epoch 1, 2, ...) the callback reports the logged `monitor`
value to the job's trial; when the sweep's pruner says so, it stops the Trainer the way
Lightning's own EarlyStopping does (`trainer.should_stop`), and the trial is recorded
as `pruned` at that epoch (results.csv, the study, metrics.json). Outside an hpsweep
sweep it does nothing. Requires the `lightning` extra: pytorch-lightning.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from hpsweep import SweepTrial


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


def _as_float(value: Any) -> float:
    return float(value.item() if hasattr(value, "item") else value)
