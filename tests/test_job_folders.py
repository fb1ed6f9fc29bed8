"""Job folders sort in trial order: the planned count, the width, and the Hydra
behaviour the padding relies on (the sweep's resolver cache reaches every job)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from hpsweep.sweep.job_folders import job_subdir, pin_planned_jobs, planned_jobs
from hpsweep.sweep.spec import SweepSpec
from hpsweep.training.resolvers import register_resolvers
from tests.conftest import CONF_DIR

HPSWEEP = {"search": "auto", "n_trials": 20}

PLANNED = [
    # (sweeper config, overrides, planned jobs)
    ({}, ["optimizer=adam,sgd", "optimizer.lr=0.1,0.01,0.001"], 6),  # Hydra's basic sweeper
    ({}, [], 1),
    ({}, ["optimizer.lr=range(0,150)"], 150),
    (HPSWEEP, ["optimizer=adam,sgd", "model=mlp,cnn"], 4),  # hpsweep, a finite space: a grid
    (HPSWEEP, ["optimizer.lr=interval(1e-4,1e-1)"], 20),  # an interval: n_trials
    ({**HPSWEEP, "search": "sample"}, ["optimizer=adam,sgd"], 20),
    ({"n_trials": 30}, ["optimizer=adam,sgd"], 30),  # the stock Optuna sweeper samples
    ({"budget": 80}, ["optimizer.lr=interval(0.1,1)"], None),  # unknown: no count
]


@pytest.mark.parametrize(
    ("sweeper", "overrides", "expected"), PLANNED, ids=[" ".join(p[1]) or "none" for p in PLANNED]
)
def test_planned_jobs(sweeper: dict, overrides: list[str], expected: int | None) -> None:
    spec = SweepSpec.parse(overrides, groups=["optimizer", "model"])
    assert planned_jobs(sweeper, spec) == expected


@pytest.mark.parametrize(
    ("number", "planned", "folder"),
    [
        (0, 4, "00"),
        (7, 20, "07"),
        (19, 20, "19"),
        (99, 100, "99"),
        (5, 101, "005"),
        (149, 150, "149"),
        (3, None, "03"),
        (123, None, "123"),
    ],
)
def test_job_subdir(number: int, planned: int | None, folder: str) -> None:
    assert job_subdir(number, planned) == folder


def test_folders_sort_in_trial_order() -> None:
    folders = [job_subdir(n, 150) for n in range(150)]
    assert sorted(folders) == folders


@pytest.fixture
def sweep_config() -> Iterator[DictConfig]:
    """A grid of 2 x 120 = 240 jobs: three digits."""
    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR)):
        loader = GlobalHydra.instance().config_loader()
        overrides = ["hydra/sweeper=grid", "optimizer=adam,sgd", "trainer.seed=range(0,120)"]
        yield loader.load_configuration("train", overrides, run_mode=RunMode.MULTIRUN)
    GlobalHydra.instance().clear()


def job_folder(sweep_config: DictConfig, number: int) -> str:
    loader = GlobalHydra.instance().config_loader()
    job = loader.load_sweep_config(sweep_config, ["optimizer=sgd", "trainer.seed=7"])
    job.hydra.job.num = number
    return OmegaConf.select(job, "hydra.sweep.subdir")


def test_every_job_gets_the_count_pinned_on_the_sweep_config(sweep_config: DictConfig) -> None:
    # Pins OmegaConf's cache key for a call without arguments and Hydra's copy of the
    # sweep's resolver cache into each job's config (ConfigLoaderImpl.load_sweep_config).
    assert pin_planned_jobs(sweep_config) == 240
    assert job_folder(sweep_config, 7) == "007"


def test_a_job_config_alone_cannot_count_the_sweep(sweep_config: DictConfig) -> None:
    assert job_folder(sweep_config, 7) == "07"  # unpinned: the minimum width
