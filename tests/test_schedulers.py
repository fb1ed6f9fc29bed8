"""warmup_cosine: the learning-rate factor per epoch."""

from __future__ import annotations

import pytest
import torch

from hpsweep.training.schedulers import warmup_cosine


def factors(warmup: int, total: int, min_ratio: float, epochs: int) -> list[float]:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = warmup_cosine(optimizer, warmup, total, min_ratio)
    seen = []
    for _ in range(epochs):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return seen


@pytest.mark.parametrize(
    ("warmup", "total", "min_ratio", "expected"),
    [
        (0, 4, 0.0, [1.0, 0.853553, 0.5, 0.146447, 0.0]),
        (2, 4, 0.0, [1 / 3, 2 / 3, 1.0, 0.5, 0.0]),
        (1, 3, 0.5, [0.5, 1.0, 0.75, 0.5]),
    ],
    ids=["no-warmup", "warmup-2", "floor-half"],
)
def test_factors(warmup: int, total: int, min_ratio: float, expected: list[float]) -> None:
    assert factors(warmup, total, min_ratio, len(expected)) == pytest.approx(expected, abs=1e-6)


def test_rejects_negative_warmup() -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError):
        warmup_cosine(optimizer, -1, 10)
