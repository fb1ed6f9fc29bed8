"""Puts hpsweep's sweeper presets on every Hydra app's config search path.

With hpsweep installed, any `@hydra.main` app can choose them, as train.py does:

    python app.py -m hydra/sweeper=hyperband 'x=interval(-2,2)' hydra.sweeper.n_trials=12

The presets are the yaml files in this package's conf/hydra/sweeper/ (auto, grid,
random, tpe, sha, hyperband); the pruner group and the sweeper schema they build on
are ConfigStore entries (config.py), the samplers hydra-optuna-sweeper's. Appended, so
an app's own conf/hydra/sweeper/<name>.yaml still wins over ours.
"""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

PRESETS = "pkg://hydra_plugins.hpsweep_sweeper.conf"


class HpsweepSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        search_path.append(provider="hpsweep", path=PRESETS)
