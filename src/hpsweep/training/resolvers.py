"""OmegaConf resolvers that conf/train.yaml uses: train.py registers them before Hydra
composes, and so does anything that loads a config it saved (`hpsweep report`)."""

from __future__ import annotations

import secrets

from omegaconf import OmegaConf

from hpsweep.sweep.job_folders import RESOLVER, job_subdir, unknown_planned_jobs
from hpsweep.training.objective import first_metric, metric_direction, sweep_direction


def register_resolvers() -> None:
    """`${hpsweep_unique:}`: a short random token, the same for every use in one config.

    Sweep folders end in it, so two sweeps started in the same second never share a
    folder. Hydra copies the resolver cache from the sweep's config into each job's,
    so every job of a sweep sees the same token.

    `${hpsweep_mode:<metric>}`: min or max, the metric's own direction
    (hpsweep.training.objective.metric_direction); objective.mode and the callbacks'
    modes default to it.

    `${hpsweep_direction:<mode>}`: the sweeper's direction(s) of objective.mode, and
    `${hpsweep_first:<metric>}`: the first of several objectives (what callbacks watch).

    `${hpsweep_planned_jobs:}` and `${hpsweep_job_subdir:num,planned}`: zero-padded job
    folders (see hpsweep.sweep.job_folders); the planned count is cached the same way.
    """
    OmegaConf.register_resolver("hpsweep_unique", unique_token, use_cache=True, replace=True)
    OmegaConf.register_resolver("hpsweep_mode", metric_direction, replace=True)
    OmegaConf.register_resolver("hpsweep_direction", sweep_direction, replace=True)
    OmegaConf.register_resolver("hpsweep_first", first_metric, replace=True)
    OmegaConf.register_resolver(RESOLVER, unknown_planned_jobs, use_cache=True, replace=True)
    OmegaConf.register_resolver("hpsweep_job_subdir", job_subdir, replace=True)


def unique_token() -> str:
    return secrets.token_hex(3)
