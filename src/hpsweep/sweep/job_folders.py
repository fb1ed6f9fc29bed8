"""Job folders that sort in trial order: zero-padded numbers, as wide as the sweep needs.

Hydra names a sweep's job folders by job number (`hydra.sweep.subdir`), so a sweep of
20 trials lists 0, 1, 10, 11, …, 19, 2, … in a file browser and in TensorBoard. conf/
train.yaml pads the number instead, to the width of the sweep's planned job count:

    hydra.sweep.subdir: ${hpsweep_job_subdir:${hydra.job.num},${hpsweep_planned_jobs:}}

    planned jobs   folders
    4 (a grid)     00 01 02 03        (at least two digits, the layout INTERFACE.md shows)
    20 (TPE)       00 01 … 19
    150            000 001 … 149

The planned count is read from the sweep's own config, whichever sweeper it runs
(`planned_jobs`): a `n_trials` for sampling sweepers (hpsweep's, the stock Optuna
sweeper), the grid's size for a grid (Hydra's basic sweeper; hpsweep's when every
searched parameter is a list). Jobs are composed from that config with single values,
so they cannot count the sweep themselves: `pin_planned_jobs` counts once on the
sweep's config at multirun start and caches the count there; Hydra copies that cache into every
job's config (the same way `${now:}` stays one time for a whole sweep).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from hpsweep.sweep.spec import SweepSpec

MIN_WIDTH = 2


def planned_jobs(sweeper: Mapping[str, Any], spec: SweepSpec) -> int | None:
    """How many jobs a sweep plans, from its sweeper's config and its searched space;
    None when it cannot be known (a sweeper that names no count, over an interval).

    A grid's size with conditional parameters counts every combination of them: an
    upper bound, which is all a folder width needs.
    """
    if any(p.override.is_interval_sweep() for p in spec.parameters):
        grid = None
    else:
        grid = math.prod(len(p.values()) for p in spec.parameters)
    n_trials = sweeper.get("n_trials")
    if "search" in sweeper:  # hpsweep's sweepers: a grid when every list is finite
        if grid is not None and sweeper["search"] != "sample":
            return grid
        return n_trials
    if n_trials is not None:  # Optuna-like sweepers sample n_trials, lists or not
        return int(n_trials)
    return grid  # Hydra's basic sweeper: every combination once


def folder_width(planned: int | None) -> int:
    """Digits for job numbers 0 … planned-1: at least MIN_WIDTH."""
    if planned is None or planned < 1:
        return MIN_WIDTH
    return max(MIN_WIDTH, len(str(planned - 1)))


def job_subdir(number: int, planned: int | None) -> str:
    """The folder name of job `number` in a sweep of `planned` jobs: 7, 20 -> "07"."""
    return str(number).zfill(folder_width(planned))


RESOLVER = "hpsweep_planned_jobs"


def unknown_planned_jobs() -> int | None:
    """`${hpsweep_planned_jobs:}` where nothing pinned it: a job's config holds only its
    own values, so it cannot count the sweep; the width falls back to MIN_WIDTH."""
    return None


def pin_planned_jobs(sweep_config: DictConfig) -> int | None:
    """Count the sweep's planned jobs and store the count as the cached value of
    `${hpsweep_planned_jobs:}` in the sweep config's resolver cache, which Hydra copies
    into each job's config (ConfigLoaderImpl.load_sweep_config: copy_cache).

    OmegaConf does not cache resolvers that read the config (`_root_`), so the count is
    computed here and written into the cache under the key OmegaConf gives a call
    without arguments, `()`; tests/test_job_folders.py pins that behaviour.
    """
    planned = planned_jobs(sweep_config.hydra.sweeper, SweepSpec.of(sweep_config))
    OmegaConf.get_cache(sweep_config)[RESOLVER][()] = planned
    return planned
