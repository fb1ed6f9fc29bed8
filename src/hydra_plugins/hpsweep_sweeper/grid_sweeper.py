"""hydra/sweeper=grid: Hydra's basic sweeper, as it is, under a config that also knows
hpsweep's repeat keys.

Only so that `hydra/sweeper=grid hydra.sweeper.repeats=adaptive` (or 3) stops with
hpsweep's one line (hpsweep.hydra_callbacks.validate: exit 1, nothing written) rather
than Hydra's five-line "Key 'repeats' not in 'BasicSweeperConf'": the basic sweeper
runs each combination once, and hydra/sweeper=auto runs the same grid with repeats.
The keys reach this class only at their defaults.
"""

from __future__ import annotations

from typing import Any

# The module, not the class: Hydra registers every Sweeper class it finds in a module
# under hydra_plugins, and BasicSweeper is Hydra's own.
from hydra._internal.core_plugins import basic_sweeper


class GridSweeper(basic_sweeper.BasicSweeper):
    def __init__(
        self,
        max_batch_size: int | None,
        params: dict[str, str] | None = None,
        **repeat_keys: Any,  # repeats, max_repeats, ...: checked at multirun start
    ) -> None:
        super().__init__(max_batch_size, params)
