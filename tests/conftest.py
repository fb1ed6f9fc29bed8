"""Shared fixtures: composing conf/ the way train.py does, and small data files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.plugins import Plugins
from omegaconf import DictConfig

from hpsweep.sweep.resolvers import register_resolvers
from tests.data_files import write_blobs_csv, write_blobs_npz

# Import every Hydra plugin, registering its configs, before any test runs: Hydra's
# test suites restore the ConfigStore to what it held when each of their tests began,
# and a plugin first imported after that would not register its configs again.
Plugins.instance()
# conf/ uses hpsweep's resolvers (objective.mode: ${hpsweep_mode:...}), as train.py does.
register_resolvers()

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


# -- Sweeps shared by many tests -----------------------------------------------------
# Each runs once per test session (per xdist worker: tests that read one carry its
# `xdist_group` mark, so they run on the worker that ran it) and is only read after.


@dataclass(frozen=True)
class FinishedSweep:
    path: Path  # the sweep folder
    cwd: Path  # where train.py ran
    stdout: str


HYPERBAND = (
    # The issue's own command: Hyperband over the learning rate on digits, 12 trials of
    # at most 9 epochs; without early stopping, so only the pruner stops trials.
    "hydra/sweeper=hyperband",
    "optimizer.lr=tag(log,interval(1e-5,1))",
    "hydra.sweeper.n_trials=12",
    "trainer.epochs=9",
    "~callbacks.early_stopping",
    "hydra.sweeper.report=false",  # tests/test_report.py draws reports of its own
)
TPE = (
    "hydra/sweeper=tpe",
    "optimizer.lr=tag(log,interval(1e-4,1e-1))",
    "model.width=32,64",
    "hydra.sweeper.n_trials=6",
    "trainer.epochs=4",
    "data=synthetic",
    "hydra.sweeper.report=false",
)
GRID = (
    # Hydra's own basic sweeper, a diverging learning rate among them.
    "hydra/sweeper=grid",
    "optimizer=sgd",
    "optimizer.lr=0.01,0.1,1e12",
    "regularization=none,dropout",
    "data=synthetic",
    "trainer.epochs=3",
    "~hydra.callbacks.report",
)


def run_shared_sweep(cwd: Path, overrides: tuple[str, ...]) -> FinishedSweep:
    from tests.sweep_files import sweep_dir_of
    from tests.test_cli import run_train

    result = run_train("-m", *overrides, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return FinishedSweep(sweep_dir_of(cwd), cwd, result.stdout + result.stderr)


@pytest.fixture(scope="session")
def hyperband_sweep(tmp_path_factory: pytest.TempPathFactory) -> FinishedSweep:
    return run_shared_sweep(tmp_path_factory.mktemp("hyperband"), HYPERBAND)


@pytest.fixture(scope="session")
def tpe_sweep(tmp_path_factory: pytest.TempPathFactory) -> FinishedSweep:
    return run_shared_sweep(tmp_path_factory.mktemp("tpe"), TPE)


@pytest.fixture(scope="session")
def grid_sweep(tmp_path_factory: pytest.TempPathFactory) -> FinishedSweep:
    return run_shared_sweep(tmp_path_factory.mktemp("grid"), GRID)
