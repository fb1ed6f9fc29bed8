"""Every option of every config group composes and trains for one epoch.

The options are read from conf/, so a new yaml is tested without anyone listing it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.utils import get_class

from hpsweep.sweep.settings import GRID_SWEEPER_TARGET, SWEEPER_TARGET
from hpsweep.training import train
from tests.conftest import CONF_DIR, PRESETS_DIR, ComposeTrain
from tests.data_files import write_blobs_csv, write_blobs_npz

GROUPS = ("optimizer", "scheduler", "model", "regularization", "data", "callbacks")


def group_options() -> list[tuple[str, str]]:
    return [
        (group, path.stem) for group in GROUPS for path in sorted((CONF_DIR / group).glob("*.yaml"))
    ]


def data_overrides(option: str, tmp_path: Path) -> list[str]:
    """Options that read a user's file need one; the others train on fast synthetic data."""
    if option == "csv":
        csv = write_blobs_csv(tmp_path / "table.csv")
        return ["data=csv", f"data.path={csv}", "data.target=label"]
    if option == "npz":
        return ["data=npz", f"data.path={write_blobs_npz(tmp_path / 'arrays.npz')}"]
    return [f"data={option}"]


def test_every_group_has_options() -> None:
    options = group_options()
    for group in GROUPS:
        assert any(g == group for g, _ in options), f"conf/{group}/ has no yaml"


@pytest.mark.parametrize(("group", "option"), group_options(), ids=lambda v: str(v))
def test_option_composes_and_trains(
    group: str, option: str, compose_train: ComposeTrain, tmp_path: Path
) -> None:
    overrides = ["data=synthetic", "trainer.epochs=1"]
    if group == "data":
        overrides += data_overrides(option, tmp_path)
    else:
        overrides.append(f"{group}={option}")
    cfg = compose_train(*overrides)

    metrics = train(cfg, tmp_path / "run").to_json()

    assert metrics["epochs"] == 1
    assert metrics["status"] == "complete"
    assert math.isfinite(metrics["val/loss"])


@pytest.mark.parametrize(
    "option", ["none", "dropout", "weight_decay", "label_smoothing", "augment"]
)
def test_regularization_options_share_knobs(option: str, compose_train: ComposeTrain) -> None:
    cfg = compose_train(f"regularization={option}", "regularization.weight_decay=1e-3")
    assert set(cfg.regularization) == {"dropout", "weight_decay", "label_smoothing", "augment"}
    # weight decay reaches the optimizer through one knob
    assert cfg.optimizer.weight_decay == 1e-3


HPSWEEP = SWEEPER_TARGET
SWEEPER_TARGETS = {
    # Hydra's basic sweeper, under a config that also holds the repeat keys
    "grid": GRID_SWEEPER_TARGET,
    "optuna": "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper",  # stock
}
SWEEPERS = sorted(
    {p.stem for p in (PRESETS_DIR / "hydra" / "sweeper").glob("*.yaml")} | set(SWEEPER_TARGETS)
)


@pytest.mark.parametrize("sweeper", SWEEPERS)
def test_sweeper_presets_compose(sweeper: str, compose_train: ComposeTrain) -> None:
    cfg = compose_train(f"hydra/sweeper={sweeper}", hydra=True)
    target = SWEEPER_TARGETS.get(sweeper, HPSWEEP)
    assert cfg.hydra.sweeper._target_ == target
    assert get_class(target)
    if sweeper == "grid":
        assert issubclass(get_class(target), BasicSweeper)


@pytest.mark.parametrize(
    ("preset", "pruner", "search"),
    [
        ("auto", "optuna.pruners.NopPruner", "auto"),
        ("random", "optuna.pruners.NopPruner", "sample"),
        ("tpe", "optuna.pruners.NopPruner", "sample"),
        ("sha", "optuna.pruners.SuccessiveHalvingPruner", "sample"),
        ("hyperband", "optuna.pruners.HyperbandPruner", "sample"),
    ],
)
def test_presets_choose_pruner_and_search(
    preset: str, pruner: str, search: str, compose_train: ComposeTrain
) -> None:
    cfg = compose_train(f"hydra/sweeper={preset}", "trainer.epochs=9", hydra=True)
    assert (cfg.hydra.sweeper.pruner._target_, cfg.hydra.sweeper.search) == (pruner, search)
    if preset == "hyperband":
        assert cfg.hydra.sweeper.pruner.max_resource == 9  # the run's epochs


@pytest.mark.parametrize(
    ("metric", "direction"), [("val/loss", "minimize"), ("val/acc", "maximize")]
)
def test_default_sweeper_follows_objective_mode(
    metric: str, direction: str, compose_train: ComposeTrain
) -> None:
    # objective.mode follows the metric unless set: a loss is minimized, an accuracy maximized.
    cfg = compose_train(f"objective.metric={metric}", hydra=True)
    assert cfg.hydra.sweeper._target_ == HPSWEEP
    assert cfg.hydra.sweeper.search == "auto"
    assert cfg.hydra.sweeper.direction == direction
    assert cfg.hydra.sweeper.seed == 0


def test_established_defaults(compose_train: ComposeTrain) -> None:
    cfg = compose_train()
    assert cfg.optimizer._target_ == "torch.optim.Adam"
    assert cfg.optimizer.lr == 1e-3
    assert cfg.trainer.batch_size == 64
    assert cfg.data._target_ == "hpsweep.training.data.load_digits"
    assert (cfg.objective.metric, cfg.objective.mode) == ("val/loss", "min")
