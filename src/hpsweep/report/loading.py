"""Reading a sweep folder into one `Sweep` record."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from hpsweep.sweep.results import FINISHED_WORDS, RESULTS_FILE, parameter_columns, sweep_mode


class NotASweepError(ValueError):
    """The folder holds no results.csv: not a sweep folder (or not one yet)."""


@dataclass(frozen=True)
class Trial:
    number: int
    status: str
    value: float  # NaN when the trial has none (failed, diverged)
    epochs: int
    seconds: float
    job_dir: Path | None
    params: dict[str, str]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_WORDS and math.isfinite(self.value)


@dataclass(frozen=True)
class Sweep:
    path: Path
    trials: list[Trial]
    params: list[str]  # the searched parameters, in results.csv's order
    mode: str  # min | max
    metric: str
    max_epochs: int | None  # trainer.epochs, when the sweep did not vary it

    def ranked(self) -> list[Trial]:
        """Finished trials, best first."""
        finished = [t for t in self.trials if t.finished]
        return sorted(finished, key=lambda t: t.value, reverse=self.mode == "max")


def _number(text: str, kind: type = float) -> float:
    try:
        return kind(float(text))
    except (TypeError, ValueError):
        return math.nan if kind is float else 0


def load_sweep(path: Path) -> Sweep:
    results = path / RESULTS_FILE
    if not results.is_file():
        raise NotASweepError(f"{path} is not a sweep folder: it has no {RESULTS_FILE}")
    with results.open(newline="") as file:
        reader = csv.DictReader(file)
        header = reader.fieldnames or []
        rows = list(reader)
    params = parameter_columns(header)
    trials = [
        Trial(
            number=int(row["number"]),
            status=row["status"],
            value=_number(row["value"]),
            epochs=int(_number(row["epochs"], int)),
            seconds=_number(row["seconds"]),
            job_dir=Path(row["job_dir"]) if row["job_dir"] else None,
            params={p: row[p] for p in params if row.get(p)},
        )
        for row in rows
    ]
    config_file = path / "multirun.yaml"
    config = OmegaConf.load(config_file) if config_file.is_file() else OmegaConf.create()
    epochs = OmegaConf.select(config, "trainer.epochs", default=None)
    return Sweep(
        path=path,
        trials=trials,
        params=params,
        mode=sweep_mode(config),
        metric=OmegaConf.select(config, "objective.metric", default="value"),
        max_epochs=epochs if isinstance(epochs, int) and "trainer.epochs" not in params else None,
    )
