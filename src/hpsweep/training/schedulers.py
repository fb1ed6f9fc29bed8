"""Learning-rate schedules that torch does not ship as one class.

The other options of the `scheduler` group are torch's own classes, named in conf/.
Every schedule is stepped once per epoch.
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine(
    optimizer: Optimizer, warmup_epochs: int, total_epochs: int, min_lr_ratio: float = 0.0
) -> LambdaLR:
    """Linear warm-up to the optimizer's lr over `warmup_epochs`, then cosine decay to
    `min_lr_ratio` of it at `total_epochs`."""
    if warmup_epochs < 0 or total_epochs < 1:
        raise ValueError("warmup_epochs must be >= 0 and total_epochs >= 1")

    def factor(epoch: int) -> float:
        if epoch < warmup_epochs:
            # Epoch 0 trains at 1/(warmup+1) of lr, not at 0: an epoch at lr 0 is wasted.
            return (epoch + 1) / (warmup_epochs + 1)
        decay_epochs = max(1, total_epochs - warmup_epochs)
        progress = min(1.0, (epoch - warmup_epochs) / decay_epochs)
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)
