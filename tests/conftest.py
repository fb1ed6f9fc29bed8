"""Shared fixtures: composing conf/ the way train.py does, and small data files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.plugins import Plugins
from omegaconf import DictConfig

from tests.data_files import write_blobs_csv, write_blobs_npz

# Import every Hydra plugin, registering its configs, before any test runs: Hydra's
# test suites restore the ConfigStore to what it held when each of their tests began,
# and a plugin first imported after that would not register its configs again.
Plugins.instance()

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"
# The sweeper presets ship in the package, on every Hydra app's search path.
PRESETS_DIR = ROOT / "src" / "hydra_plugins" / "hpsweep_sweeper" / "conf"
TRAIN_PY = ROOT / "train.py"

ComposeTrain = Callable[..., DictConfig]


@pytest.fixture
def compose_train() -> Iterator[ComposeTrain]:
    """compose_train(*overrides, hydra=False) -> the composed train config."""

    def _compose(*overrides: str, hydra: bool = False) -> DictConfig:
        with initialize_config_dir(config_dir=str(CONF_DIR)):
            return compose("train", overrides=list(overrides), return_hydra_config=hydra)

    yield _compose
    # initialize_config_dir restores this on exit; clearing again keeps a failing
    # test from leaking Hydra's global state into the next one.
    GlobalHydra.instance().clear()


@pytest.fixture
def blobs_csv(tmp_path: Path) -> Path:
    return write_blobs_csv(tmp_path / "blobs.csv")


@pytest.fixture
def blobs_npz(tmp_path: Path) -> Path:
    return write_blobs_npz(tmp_path / "blobs.npz")
