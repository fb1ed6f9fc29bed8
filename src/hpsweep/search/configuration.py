"""One asked trial in flight: its configuration's overrides and its jobs.

Without repeats a configuration is one job; with `hydra.sweeper.repeats=k` it is k
consecutive jobs over seeds (hpsweep.search.repeats). It is recorded once, when its
last job has ended (hpsweep.search.recording).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import optuna


@dataclass
class Configuration:
    trial: optuna.Trial
    overrides: list[str]
    numbers: list[int]  # its jobs' numbers (their folders), in repeat order
    ended: dict[int, Any] = field(default_factory=dict)  # job number -> Hydra's JobReturn

    @property
    def first_job(self) -> int:
        return self.numbers[0]

    def end(self, number: int, job_return: Any) -> bool:
        """Record one job's return; True once the configuration's last job has ended."""
        self.ended[number] = job_return
        return len(self.ended) == len(self.numbers)

    def returns(self) -> list[Any]:
        """The jobs' JobReturns, in repeat order (all ended)."""
        return [self.ended[number] for number in self.numbers]
