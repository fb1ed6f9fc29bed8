"""The Sweeper class Hydra discovers. Thin on purpose: Hydra imports every module under
hydra_plugins at start-up, so Optuna and the sweep loop load lazily from _impl."""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from hydra_plugins.hpsweep_sweeper import config as _registers_configs  # noqa: F401


class HpsweepSweeper(Sweeper):
    def __init__(self, **settings: Any) -> None:
        from hydra_plugins.hpsweep_sweeper._impl import HpsweepSweeperImpl

        self.sweeper = HpsweepSweeperImpl(**settings)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> None:
        return self.sweeper.sweep(arguments)
