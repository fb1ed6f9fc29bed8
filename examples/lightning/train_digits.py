"""A tiny LightningModule on scikit-learn's digits, swept by hpsweep with pruning.

    pip install 'hpsweep[lightning]'
    python train_digits.py -m hydra/sweeper=hyperband 'lr=tag(log,interval(1e-4,1))' \
        hydra.sweeper.n_trials=12

HpsweepPruning reports val_loss every epoch and stops the Trainer when the pruner
says so; the trial's row in results.csv then says `pruned`. HpsweepResume saves the
Trainer's checkpoint each epoch, and a trial cut off (Ctrl-C, kill -9, preemption)
continues from it through Lightning's own ckpt_path when the sweep is run again with
the same command and hydra.sweep.dir.
"""

import warnings

import hydra
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from hpsweep.integrations.lightning import HpsweepPruning, HpsweepResume, resume_checkpoint

# 1797 8x8 images load in memory: worker processes would only slow them down.
warnings.filterwarnings("ignore", ".*does not have many workers.*")


class DigitsMLP(pl.LightningModule):
    def __init__(self, hidden: int, lr: float) -> None:
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        return nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self.net(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def loaders(batch_size: int, seed: int) -> tuple[DataLoader, DataLoader]:
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16, y, test_size=0.25, random_state=seed)

    def dataset(x, y) -> TensorDataset:
        return TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))

    train = DataLoader(dataset(x_train, y_train), batch_size=batch_size, shuffle=True)
    return train, DataLoader(dataset(x_val, y_val), batch_size=len(y_val))


@hydra.main(config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    pl.seed_everything(cfg.seed, verbose=False)
    train, val = loaders(cfg.trainer.batch_size, cfg.seed)
    trainer = pl.Trainer(
        max_epochs=cfg.trainer.epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[HpsweepPruning("val_loss"), HpsweepResume()],
    )
    trainer.fit(DigitsMLP(cfg.hidden, cfg.lr), train, val, ckpt_path=resume_checkpoint())
    return float(trainer.callback_metrics["val_loss"])


if __name__ == "__main__":
    main()
