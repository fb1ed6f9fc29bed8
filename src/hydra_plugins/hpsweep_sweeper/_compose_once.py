"""Compose a sweep's job config once per structure, not once per trial.

Hydra's launchers call `config_loader.load_sweep_config(master, overrides)` for every
job, and Hydra composes the whole config again from its defaults list: about 100 ms
on train.py's config, a tenth of a one-second trial. Within a sweep most jobs differ
only in values (`optimizer.lr=0.0123`), not in which config files make them up. So the
first job of each structure (its config-group choices, its hydra overrides, which
keys it sets) is composed by Hydra and kept; the next job of the same structure is a
copy of it with the new values set by Hydra's own override code: the same config as
composing it again (tests/test_compose_once.py compares the two), in a few ms.
"""

from __future__ import annotations

import copy
import threading
import uuid
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import DictConfig, OmegaConf

StructureKey = tuple[tuple[str, str], ...]


# The loader of the sweep this process works for, by its token. A joblib worker
# unpickles the sweep's context afresh for every job; this is how the second job of a
# structure finds the first one's composition in the same worker process.
_THIS_PROCESS: dict[str, ComposeOnceConfigLoader] = {}


def _loader_in_this_process(token: str, loader: ConfigLoader) -> ComposeOnceConfigLoader:
    return _THIS_PROCESS.get(token) or ComposeOnceConfigLoader(loader, token)


class ComposeOnceConfigLoader(ConfigLoader):
    """Hydra's config loader with `load_sweep_config` memoised per job structure."""

    def __init__(self, loader: ConfigLoader, token: str | None = None) -> None:
        self.loader = loader
        self.token = token or uuid.uuid4().hex
        # A process serves one sweep at a time: it keeps only that sweep's loader (and
        # its compositions), not every loader it ever made.
        _THIS_PROCESS.clear()
        _THIS_PROCESS[self.token] = self
        self.composed: dict[StructureKey, DictConfig] = {}
        self.parser = OverridesParser.create()
        # The sweeper launches each job from its own dispatch thread, and a launcher
        # that composes in the sweep's process (submitit) calls this from all of them:
        # one composition at a time, as Hydra's loader was written for.
        self.lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        # A launcher that runs jobs in other processes (joblib, submitit) pickles its
        # context, this loader included, for every job; the cache is not sent along.
        # The process that unpickles it keeps one loader per sweep (by its token), so a
        # joblib worker composes each structure once, not every job: Hydra's in-worker
        # composition was 150 of the 310 ms from a launch to its task's start.
        return _loader_in_this_process, (self.token, self.loader)

    def load_sweep_config(
        self, master_config: DictConfig, sweep_overrides: list[str]
    ) -> DictConfig:
        with self.lock:
            return self._load_sweep_config(master_config, sweep_overrides)

    def _load_sweep_config(
        self, master_config: DictConfig, sweep_overrides: list[str]
    ) -> DictConfig:
        overrides = self.parser.parse_overrides(list(sweep_overrides))
        groups = master_config.hydra.runtime.choices
        is_value = [is_value_override(o, groups) for o in overrides]
        values = [o for o, value in zip(overrides, is_value, strict=True) if value]
        key = tuple(
            ("value", o.key_or_group) if value else ("line", o.input_line or "")
            for o, value in zip(overrides, is_value, strict=True)
        )
        template = self.composed.get(key)
        # A key that only became a config group with this structure is not a value.
        if template is None or any(
            o.key_or_group in template.hydra.runtime.choices for o in values
        ):
            config = self.loader.load_sweep_config(master_config, list(sweep_overrides))
            self.composed[key] = copy.deepcopy(config)
            return config
        config = copy.deepcopy(template)
        ConfigLoaderImpl._apply_overrides_to_config(values, config)
        config.hydra.overrides.task = [o.input_line for o in overrides if not o.is_hydra_override()]
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config

    # Everything else is the wrapped loader's.
    def load_configuration(self, *args: Any, **kwargs: Any) -> DictConfig:
        return self.loader.load_configuration(*args, **kwargs)

    def get_search_path(self) -> Any:
        return self.loader.get_search_path()

    def get_sources(self) -> Any:
        return self.loader.get_sources()

    def list_groups(self, parent_name: str) -> list[str]:
        return self.loader.list_groups(parent_name)

    def get_group_options(self, *args: Any, **kwargs: Any) -> list[str]:
        return self.loader.get_group_options(*args, **kwargs)

    def compute_defaults_list(self, *args: Any, **kwargs: Any) -> Any:
        return self.loader.compute_defaults_list(*args, **kwargs)


def is_value_override(override: Override, groups: Any) -> bool:
    """`key=value` on a config value: it changes a value, never which files compose."""
    return (
        override.type == OverrideType.CHANGE
        and override.package is None
        and not override.is_hydra_override()
        and not override.is_sweep_override()
        and override.key_or_group not in groups
    )
