"""Sweeps end to end: `python train.py -m ...` in subprocesses, read back from the
files they leave (results.csv, best.yaml, job folders)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TRAIN_PY
from tests.sweep_files import results, sweep_dir_of
from tests.test_cli import run_train

FAST = ("data=synthetic", "trainer.epochs=3")


def test_comma_lists_run_as_an_exact_grid_by_default(tmp_path: Path) -> None:
    result = run_train("-m", "optimizer=adam,sgd", "model=mlp,cnn", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    rows = results(sweep_dir_of(tmp_path))
    assert [r["number"] for r in rows] == ["0", "1", "2", "3"]
    assert sorted((r["optimizer"], r["model"]) for r in rows) == [
        ("adam", "cnn"),
        ("adam", "mlp"),
        ("sgd", "cnn"),
        ("sgd", "mlp"),
    ]
    assert {r["status"] for r in rows} == {"complete"}


def test_interval_is_sampled_for_n_trials(tmp_path: Path) -> None:
    result = run_train(
        "-m", "optimizer.lr=interval(1e-4,1e-1)", "hydra.sweeper.n_trials=5", *FAST, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr

    sweep = sweep_dir_of(tmp_path)
    rows = results(sweep)
    assert len(rows) == 5
    assert all(1e-4 <= float(r["optimizer.lr"]) <= 1e-1 for r in rows)
    assert len({r["optimizer.lr"] for r in rows}) == 5
    assert (sweep / "best.yaml").is_file()
    assert "--config-name best" in result.stdout  # the re-run command is printed
    assert "[5/5] best" in result.stdout  # progress


def test_hydras_basic_sweeper_also_writes_results(tmp_path: Path) -> None:
    result = run_train("-m", "hydra/sweeper=grid", "optimizer=adam,sgd", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["optimizer"] for r in results(sweep_dir_of(tmp_path))] == ["adam", "sgd"]


def test_stock_optuna_sweeper_keeps_working(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "hydra/sweeper=optuna",
        "optimizer.lr=interval(1e-4,1e-1)",
        "hydra.sweeper.n_trials=2",
        *FAST,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert len(results(sweep_dir_of(tmp_path))) == 2


@pytest.mark.parametrize(
    "launcher",
    [
        ["hydra.sweeper.n_trials=16"],
        # separate worker processes: pruning goes through the study's journal file
        [
            "hydra.sweeper.n_trials=8",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            "hydra.sweeper.n_jobs=2",
        ],
    ],
    ids=["in-process", "joblib-2-workers"],
)
def test_hyperband_prunes_and_its_best_trial_ran_the_full_budget(
    launcher: list[str], tmp_path: Path
) -> None:
    result = run_train(
        "-m",
        "hydra/sweeper=hyperband",
        "optimizer.lr=tag(log,interval(1e-5,1))",
        "data=synthetic",
        "trainer.epochs=9",
        "callbacks.early_stopping.patience=100",  # only the pruner stops trials here
        *launcher,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr

    rows = results(sweep_dir_of(tmp_path))
    assert len(rows) == int(launcher[0].rsplit("=", 1)[1])
    assert sorted(int(r["number"]) for r in rows) == list(range(len(rows)))
    pruned = [r for r in rows if r["status"] == "pruned"]
    assert pruned
    assert all(int(r["epochs"]) < 9 for r in pruned)
    finished = [r for r in rows if r["status"] == "complete"]
    best = min(finished, key=lambda r: float(r["value"]))
    assert best["epochs"] == "9"


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "optimizer=adam,sgd",
        "model=mlp,cnn",
        "optimizer.lr=tag(log,interval(1e-4,1e-1))",
        "hydra.sweeper.dry_run=true",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "search space (sampled, 20 trials)" in result.stdout
    assert "composed 4 configs: ok" in result.stdout
    assert not (tmp_path / "multirun").exists()


def test_conditional_parameters_from_a_search_preset(tmp_path: Path) -> None:
    result = run_train(
        "-m", "hparams_search=optimizer", "hydra.sweeper.n_trials=12", *FAST, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    rows = results(sweep_dir_of(tmp_path))
    assert {r["optimizer"] for r in rows} == {"adam", "sgd"}
    for row in rows:
        # momentum is searched (and recorded) only in trials that chose SGD
        assert (row["optimizer.momentum"] != "") == (row["optimizer"] == "sgd")


def test_learning_rate_first_preset(tmp_path: Path) -> None:
    result = run_train(
        "-m", "hparams_search=lr_first", "hydra.sweeper.n_trials=3", *FAST, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    rows = results(sweep_dir_of(tmp_path))
    assert len(rows) == 3
    assert all(1e-5 <= float(r["optimizer.lr"]) <= 1e-1 for r in rows)


def test_results_grow_while_the_sweep_runs(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, str(TRAIN_PY), "-m", "optimizer.lr=0.001,0.002,0.003,0.004"),
            *("trainer.epochs=15", "~callbacks.early_stopping"),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: set[int] = set()
    try:
        while process.poll() is None:
            files = list((tmp_path / "multirun").glob("*/*/results.csv"))
            if files:
                seen.add(len(files[0].read_text().splitlines()) - 1)
            time.sleep(0.05)
    finally:
        process.wait(timeout=300)
    assert process.returncode == 0
    assert seen & {1, 2, 3}, f"row counts seen while running: {sorted(seen)}"


def test_best_yaml_reproduces_the_best_value(tmp_path: Path) -> None:
    result = run_train("-m", "optimizer.lr=0.001,0.01", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    best_value = min(float(r["value"]) for r in results(sweep))

    rerun = tmp_path / "rerun"
    result = run_train(
        "--config-path", str(sweep), "--config-name", "best", f"hydra.run.dir={rerun}", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((rerun / "metrics.json").read_text())
    assert metrics["val/loss"] == pytest.approx(best_value, rel=1e-6)
