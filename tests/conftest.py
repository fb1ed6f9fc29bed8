"""Shared fixtures: composing conf/ the way train.py does, and small data files."""

from __future__ import annotations

import os

# One torch (OpenMP) thread per test process, set before anything imports torch: the
# suite runs on 2 xdist workers on 2 cores, and the train.py processes they start
# inherit it, so two processes never run four spinning threads. The cores' share per
# process is what hpsweep itself gives each joblib worker (trainer.num_threads unset);
# tests of that rule set it explicitly. Measured: the suite's CPU time 12.6 -> 10.4 min.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.plugins import Plugins
from omegaconf import DictConfig

from hpsweep.training.resolvers import register_resolvers
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
# `python -W error`, as the suite itself runs, for the apps it starts in subprocesses;
# but for the one warning of a third-party plugin, hydra-ray-launcher (the ray extra),
# which Hydra imports in every app and which calls OmegaConf's deprecated
# register_new_resolver at import (pyproject's filterwarnings says the same for pytest).
# hydra_plugins/hpsweep_quiet silences it in a regular install only: in the suite's
# editable one, Hydra imports the launcher first (tests/test_plugin_warnings.py).
RAY_PLUGIN_WARNING = (
    "ignore:register_new_resolver() is deprecated:UserWarning"
    ":hydra_plugins.hydra_ray_launcher._config"
)
WARNINGS_AS_ERRORS = (
    *("-W", "error"),
    *("-W", RAY_PLUGIN_WARNING),
)

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
    # Hydra's own basic sweeper, 12 trials (so that text order 0, 1, 10, 11, 2, … and
    # trial order differ): SGD over learning rates that train, barely move (early
    # stopped) and blow up (diverged).
    "hydra/sweeper=grid",
    "optimizer=sgd",
    "optimizer.lr=0.1,1e-7,0.3,1e12,0.03,1e13",
    "regularization=none,dropout",
    "callbacks.early_stopping.min_delta=0.01",
    "callbacks.early_stopping.patience=1",
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


def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker with --dist loadgroup, every test marked `xdist_group` must
    carry its group in its node id (that is how xdist keeps a group on one worker).
    pytest 9.2 broke it silently (pytest-xdist#1386): shared sweeps then ran once per
    worker and the suite took a minute longer. Fail loudly instead."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [
        i.nodeid
        for i in session.items
        if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
    ]
    if lost:
        raise pytest.UsageError(f"xdist_group ignored by this pytest/xdist pair: {lost[0]}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first (a stable sort: the same order on every worker), so
    that no worker is left running one of them alone at the end of the suite."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
