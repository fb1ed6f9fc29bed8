"""What "the monitored metric improved" means, defined once.

Early stopping, the best checkpoint and TensorBoard's `best/<metric>` curve all follow
one monitored metric and ask the same question of each epoch's value: is it better
than the best so far? A NaN or infinite value never is.

>>> monitor = Monitor("val/loss", mode="min", min_delta=0.01)
>>> [monitor.update(v) for v in (1.0, 0.995, 0.9, float("nan"))]
[True, False, True, False]
>>> monitor.best, monitor.best_step
(0.9, 3)
"""

from __future__ import annotations

import math
from typing import Any


class Monitor:
    """The best value of one metric so far, and whether a new value improves on it."""

    def __init__(self, metric: str, mode: str = "min", min_delta: float = 0.0) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.metric = metric
        self.mode = mode
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_step = 0
        self.step = 0

    def improves(self, value: float) -> bool:
        """Better than the best so far by more than min_delta (any finite first value)."""
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float) -> bool:
        """Record the next value; True when it is the new best."""
        self.step += 1
        if not self.improves(value):
            return False
        self.best, self.best_step = value, self.step
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_step": self.best_step, "step": self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_step, self.step = state["best"], state["best_step"], state["step"]
