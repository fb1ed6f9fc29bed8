"""hpsweep for any Hydra app, in process: the packaged presets compose for an app that
has none of train.py's keys, results.csv grows a column per recorded metric, and the
results callback stands aside where the hpsweep sweeper records for itself."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from hpsweep.hydra_callbacks.results import records_itself
from hpsweep.sweep.results import (
    append_row,
    header,
    parameter_columns,
    read_results,
    start_results,
    sweep_mode,
)
from hpsweep.sweep.settings import SWEEPER_TARGET
from hpsweep.sweep.trial import SweepTrial
from tests.conftest import PRESETS_DIR, ROOT
from tests.sweep_files import assert_records_agree

APP_CONF = ROOT / "examples" / "hydra_app" / "conf"


@pytest.fixture
def compose_app() -> Iterator:
    def _compose(*overrides: str) -> DictConfig:
        with initialize_config_dir(config_dir=str(APP_CONF)):
            return compose("config", overrides=list(overrides), return_hydra_config=True)

    yield _compose
    GlobalHydra.instance().clear()


PRESETS = sorted(p.stem for p in (PRESETS_DIR / "hydra" / "sweeper").glob("*.yaml"))


def test_every_preset_ships_in_the_package() -> None:
    assert PRESETS == ["auto", "grid", "hyperband", "pbt", "random", "sha", "tpe"]
    assert not (ROOT / "conf" / "hydra" / "sweeper").exists()  # no second copy


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_compose_and_resolve_in_an_app_without_train_keys(preset: str, compose_app) -> None:
    cfg = compose_app(f"hydra/sweeper={preset}")
    assert "trainer" not in cfg and "objective" not in cfg
    OmegaConf.to_container(cfg.hydra.sweeper, resolve=True)  # no missing interpolation


@pytest.mark.parametrize(
    ("overrides", "max_resource", "direction"),
    [
        pytest.param([], "auto", "minimize", id="app-without-either"),
        pytest.param(["+trainer.epochs=5"], 5, "minimize", id="app-with-trainer.epochs"),
        pytest.param(["+objective.mode=max"], "auto", "maximize", id="app-with-objective.mode"),
        pytest.param(
            ["hydra.sweeper.direction=maximize"], "auto", "maximize", id="direction-by-hand"
        ),
    ],
)
def test_hyperband_reads_the_apps_keys_only_when_it_has_them(
    overrides: list[str], max_resource: object, direction: str, compose_app
) -> None:
    cfg = compose_app("hydra/sweeper=hyperband", *overrides)
    assert cfg.hydra.sweeper.pruner.max_resource == max_resource
    assert cfg.hydra.sweeper.direction == direction
    assert sweep_mode(cfg) == direction[:3]


@pytest.mark.parametrize(
    ("target", "records"),
    [
        (SWEEPER_TARGET, True),
        ("hydra._internal.core_plugins.basic_sweeper.BasicSweeper", False),
        ("hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper", False),
    ],
)
def test_the_results_callback_stands_aside_for_hpsweeps_sweeper(target: str, records: bool) -> None:
    assert records_itself(OmegaConf.create({"hydra": {"sweeper": {"_target_": target}}})) is records


def test_a_new_metric_adds_a_column_and_earlier_rows_leave_it_empty(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    start_results(path, ["x"])
    append_row(path, {"number": 0, "status": "complete", "x": "0.1", "reason": ""})
    append_row(path, {"number": 1, "x": "0.2", "distance": 0.3}, metrics=["distance"])
    append_row(path, {"number": 2, "x": "0.3", "distance": 0.2, "acc": 1}, metrics=["acc"])
    columns, rows = read_results(path)
    assert columns == [*header(["x"]), "distance", "acc"]
    assert [(r["distance"], r["acc"]) for r in rows] == [("", ""), ("0.3", ""), ("0.2", "1")]
    assert parameter_columns(columns) == ["x"]  # metric columns are not searched keys
    assert not list(tmp_path.glob(".*.tmp"))
    with path.open(newline="") as file:
        assert len(list(csv.reader(file))) == 4


@pytest.mark.parametrize("name", ["status", "value", "epochs", "seconds", "reason", "pruned_at"])
def test_a_metric_cannot_take_a_columns_name(name: str, tmp_path: Path) -> None:
    trial = SweepTrial(tmp_path, 0, {"pruner": {"_target_": "optuna.pruners.NopPruner"}})
    with pytest.raises(ValueError, match="is a column of every row"):
        trial.record(name, 1.0)
    trial.record("val/acc", 0.9)
    assert trial.metrics == {"val/acc": 0.9}


def task_that_never_reports(cfg: DictConfig) -> float:
    if cfg.x == 0:
        raise RuntimeError("no x")
    return float(cfg.x) ** 2


def test_an_app_that_never_reports_gets_complete_and_failed_rows(
    hydra_sweep_runner, tmp_path: Path
) -> None:
    """In process, Hydra's own runner: the example app's config, a task without any hpsweep
    call; the hpsweep sweeper still writes a row per trial, best.yaml and the summary."""
    with hydra_sweep_runner(
        calling_file=__file__,
        calling_module=None,
        task_function=task_that_never_reports,
        config_path="../examples/hydra_app/conf",
        config_name="config",
        overrides=[
            *("hydra/sweeper=auto", "x=0,1,2"),
            *("hydra.sweeper.max_failure_rate=1", "hydra.sweeper.report=false"),
        ],
        temp_dir=tmp_path,
    ):  # the runner deletes the sweep folder on exit: read it inside
        rows = assert_records_agree(tmp_path)
        assert {r["x"]: (r["status"], r["value"], r["epochs"]) for r in rows} == {
            "0": ("failed", "", ""),
            "1": ("complete", "1.0", ""),
            "2": ("complete", "4.0", ""),
        }
        assert [r["reason"] for r in rows if r["status"] == "failed"] == ["RuntimeError: no x"]
        assert "x: 1" in (tmp_path / "best.yaml").read_text()
