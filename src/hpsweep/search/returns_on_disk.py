"""Ended jobs' JobReturns, kept for Hydra without their configs in memory.

Hydra's `Sweeper.sweep` returns every job's JobReturn, so the sweeper keeps them all
until the sweep ends. Each holds the job's composed config and a deep copy of Hydra's
own (~125 kB of OmegaConf nodes for a no-op app): at 10,000 trials that was 1.3 GB of
the sweep process and a garbage collector walking millions of nodes. Both configs are
on disk already, in the job's `.hydra/` folder (config.yaml, hydra.yaml, written by
Hydra's `run_job` from the same objects), so a kept JobReturn reads them back only if
someone asks (Hydra's own sweeper tests do; a command-line sweep never does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from omegaconf import DictConfig, OmegaConf


class JobReturnOnDisk(JobReturn):
    """A JobReturn whose `cfg` and `hydra_cfg` are read from its job's `.hydra/` folder."""

    def __init__(self, ended: JobReturn, hydra_dir: Path) -> None:
        # Not JobReturn's __init__: it would assign the two configs this class reads.
        self.overrides = ended.overrides
        self.working_dir = ended.working_dir
        self.task_name = ended.task_name
        self.status = ended.status
        self._return_value = ended._return_value
        self.hydra_dir = hydra_dir

    @property  # type: ignore[override]
    def cfg(self) -> DictConfig:
        return self._load("config.yaml")

    @property  # type: ignore[override]
    def hydra_cfg(self) -> DictConfig:
        return self._load("hydra.yaml")

    def _load(self, name: str) -> DictConfig:
        loaded = OmegaConf.load(self.hydra_dir / name)
        assert isinstance(loaded, DictConfig)
        return loaded


def kept(ended: Any) -> Any:
    """What to keep of an ended job's return: the same on disk, when Hydra saved both
    configs there (not with `hydra.output_subdir=null`, nor for a job never launched)."""
    if type(ended) is not JobReturn or ended.hydra_cfg is None:
        return ended
    hydra = ended.hydra_cfg.hydra
    if hydra.output_subdir is None:
        return ended
    hydra_dir = Path(hydra.runtime.output_dir) / hydra.output_subdir
    if not ((hydra_dir / "config.yaml").is_file() and (hydra_dir / "hydra.yaml").is_file()):
        return ended
    return JobReturnOnDisk(ended, hydra_dir)
