"""Small data files of the kinds users bring: a CSV table and an .npz of arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_blobs_csv(
    path: Path, n: int = 240, regression: bool = False, seed: int = 0, scale: float = 1.0
) -> Path:
    """A user's table: three numeric features and a target (class names or a number,
    `scale` times a linear function of the features plus a little noise)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    if regression:
        values = scale * (x @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.normal(size=n))
        targets = [f"{v:.5f}" for v in values]
    else:
        names = np.array(["cat", "dog", "eel"])
        labels = rng.integers(0, 3, size=n)
        x[:, 0] += 3 * labels  # classes separable along the first feature
        targets = list(names[labels])
    lines = ["f1,f2,f3,label"] + [
        f"{a:.5f},{b:.5f},{c:.5f},{t}" for (a, b, c), t in zip(x, targets, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_blobs_npz(path: Path, n: int = 240, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    x[:, 0] += 3 * y
    np.savez(path, x=x, y=y)
    return path
