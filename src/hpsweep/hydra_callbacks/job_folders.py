"""A Hydra callback that fixes, at multirun start, how wide the sweep's job folders are.

conf/train.yaml names job folders `${hpsweep_job_subdir:${hydra.job.num},${hpsweep_planned_jobs:}}`;
the planned count must be evaluated on the sweep's config, before any job's config is
composed from it, to reach every job (see hpsweep.sweep.job_folders). This is the one
hook that every sweeper passes through at that moment.
"""

from __future__ import annotations

import logging
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hpsweep.sweep.job_folders import folder_width, pin_planned_jobs

log = logging.getLogger(__name__)


class PadJobFolders(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        planned = pin_planned_jobs(config)
        log.debug("%s jobs planned: folders of %d digits", planned, folder_width(planned))
