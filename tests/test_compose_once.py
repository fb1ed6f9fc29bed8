"""A job config composed once and re-valued equals the one Hydra composes anew."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterator

import cloudpickle
import pytest
from hydra import initialize_config_dir
from hydra.core.config_loader import ConfigLoader
from hydra.core.global_hydra import GlobalHydra
from hydra.core.singleton import Singleton
from hydra.core.utils import setup_globals
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from hydra_plugins.hpsweep_sweeper._compose_once import ComposeOnceConfigLoader
from tests.conftest import CONF_DIR

# The jobs of one sweep, in launch order: (overrides, composed by Hydra itself?).
JOBS = [
    (["trainer.epochs=3", "optimizer.lr=0.01"], True),
    (["trainer.epochs=3", "optimizer.lr=0.02"], False),  # same structure, new value
    (["trainer.epochs=3", "optimizer=sgd", "optimizer.lr=0.1", "optimizer.momentum=0.9"], True),
    (["trainer.epochs=3", "optimizer=sgd", "optimizer.lr=0.2", "optimizer.momentum=0.0"], False),
    (["trainer.epochs=3", "optimizer=adam", "optimizer.lr=0.2"], True),  # a new group line
    (["trainer.epochs=4", "optimizer.lr=0.03"], False),  # fixed value changed: a value too
    (["optimizer.lr=0.03", "trainer.epochs=4"], True),  # other order, other structure
    (["trainer.epochs=3", "model=cnn", "regularization.dropout=0.3"], True),
    (["trainer.epochs=3", "model=cnn", "regularization.dropout=0.1"], False),
    (["trainer.epochs=3", "~callbacks.early_stopping", "optimizer.lr=0.5"], True),
    (["trainer.epochs=3", "~callbacks.early_stopping", "optimizer.lr=0.6"], False),
    (["trainer.epochs=3", "+trainer.note=a", "optimizer.lr=0.5"], True),  # additions: lines
    (["trainer.epochs=3", "+trainer.note=b", "optimizer.lr=0.5"], True),
    (["trainer.epochs=3", "hydra.job.name=x", "optimizer.lr=0.7"], True),
    (["trainer.epochs=3", "hydra.job.name=x", "optimizer.lr=0.8"], False),
]


class CountingLoader:
    """Hydra's loader, counting the compositions it is asked for."""

    in_this_process = 0  # by every copy: a worker unpickles one per job

    def __init__(self, loader: ConfigLoader) -> None:
        self.loader = loader
        self.compositions = 0

    def load_sweep_config(
        self, master_config: DictConfig, sweep_overrides: list[str]
    ) -> DictConfig:
        self.compositions += 1
        CountingLoader.in_this_process += 1
        return self.loader.load_sweep_config(master_config, sweep_overrides)


@pytest.fixture
def hydra_loader() -> Iterator[tuple[ConfigLoader, DictConfig]]:
    with initialize_config_dir(config_dir=str(CONF_DIR)):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(
            "train",
            ["hydra/sweeper=random", "optimizer.lr=tag(log,interval(1e-4,1e-1))"],
            run_mode=RunMode.MULTIRUN,
        )
        yield loader, master
    GlobalHydra.instance().clear()


def test_each_job_equals_hydras_own_composition(hydra_loader) -> None:
    loader, master = hydra_loader
    counting = CountingLoader(loader)
    once = ComposeOnceConfigLoader(counting)  # type: ignore[arg-type]
    for overrides, composed_by_hydra in JOBS:
        before = counting.compositions
        ours = once.load_sweep_config(master, overrides)
        assert (counting.compositions > before) == composed_by_hydra, overrides
        expected = loader.load_sweep_config(master, overrides)
        assert OmegaConf.to_container(ours) == OmegaConf.to_container(expected), overrides
        assert OmegaConf.is_struct(ours)


def test_a_kept_composition_is_not_changed_by_its_jobs(hydra_loader) -> None:
    loader, master = hydra_loader
    once = ComposeOnceConfigLoader(loader)
    first = once.load_sweep_config(master, ["optimizer.lr=0.01"])
    with open_dict(first):  # what a launcher does to its job's config
        first.hydra.job.num = 7
        first.optimizer.lr = 1.0
    second = once.load_sweep_config(master, ["optimizer.lr=0.02"])
    expected = loader.load_sweep_config(master, ["optimizer.lr=0.02"])
    assert OmegaConf.to_container(second) == OmegaConf.to_container(expected)


def compose_as_a_worker(payload: bytes, master: DictConfig, lr: float) -> int:
    """What Hydra's joblib launcher does in a worker for each job: restore Hydra's
    globals, unpickle the sweep's context (this loader in it), compose the job's config.
    Returns how many compositions Hydra's loader has made in this process so far."""
    setup_globals()
    loader, state = pickle.loads(payload)
    Singleton.set_state(state)
    composed = loader.load_sweep_config(master, [f"optimizer.lr={lr}"])
    assert composed.optimizer.lr == lr
    return CountingLoader.in_this_process


def test_a_worker_process_composes_each_structure_once(hydra_loader) -> None:
    loader, master = hydra_loader
    # cloudpickle, as joblib sends it (Hydra's state holds resolvers defined in functions)
    context = (ComposeOnceConfigLoader(CountingLoader(loader)), Singleton.get_state())
    payload = cloudpickle.dumps(context)
    with multiprocessing.get_context("spawn").Pool(1) as worker:  # one process, three jobs
        counts = [
            worker.apply(compose_as_a_worker, (payload, master, lr)) for lr in (0.1, 0.2, 0.3)
        ]
    assert counts == [1, 1, 1]


def test_unpickled_in_its_own_process_it_is_the_same_loader(hydra_loader) -> None:
    loader, _ = hydra_loader
    once = ComposeOnceConfigLoader(loader)
    assert pickle.loads(pickle.dumps(once)) is once
