"""Sweeps end to end: `python train.py -m ...` in subprocesses, read back from what they
record (results.csv, metrics.json, the Optuna study, best.yaml, job folders), and the
records checked against each other by `assert_records_agree` in every test."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hpsweep.sweep.channel import load_recorded_study, read_channel, registered_jobs
from tests.conftest import HYPERBAND, TRAIN_PY, WARNINGS_AS_ERRORS, FinishedSweep
from tests.sweep_files import assert_records_agree, results, sweep_dir_of
from tests.test_cli import run_train
from tests.test_report import report_here, wait_for_page

FAST = ("data=synthetic", "trainer.epochs=3")
# 1e12 and 1e13 as Hydra parses them, and results.csv records them
DIVERGING = ("1000000000000.0", "10000000000000.0")


def test_comma_lists_run_as_an_exact_grid_by_default(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "optimizer=adam,sgd",
        "model=mlp,cnn",
        *FAST,
        "hydra.sweeper.report=false",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr

    rows = assert_records_agree(sweep_dir_of(tmp_path))
    assert [r["number"] for r in rows] == ["0", "1", "2", "3"]
    # Hydra's basic sweeper's order: the last parameter varies fastest
    assert [(r["optimizer"], r["model"]) for r in rows] == [
        ("adam", "mlp"),
        ("adam", "cnn"),
        ("sgd", "mlp"),
        ("sgd", "cnn"),
    ]
    assert {r["status"] for r in rows} == {"complete"}


@pytest.mark.xdist_group("tpe")
def test_interval_is_sampled_for_n_trials(tpe_sweep: FinishedSweep) -> None:
    rows = assert_records_agree(tpe_sweep.path)
    assert len(rows) == 6
    assert all(1e-4 <= float(r["optimizer.lr"]) <= 1e-1 for r in rows)
    assert len({r["optimizer.lr"] for r in rows}) == 6
    assert {r["model.width"] for r in rows} <= {"32", "64"}
    assert (tpe_sweep.path / "best.yaml").is_file()
    assert "[6/6] best" in tpe_sweep.stdout  # progress


@pytest.mark.xdist_group("tpe")
def test_best_yaml_reproduces_the_best_value(tpe_sweep: FinishedSweep, tmp_path: Path) -> None:
    rows = [r for r in results(tpe_sweep.path) if r["status"] in ("complete", "early_stopped")]
    best_value = min(float(r["value"]) for r in rows)
    assert f"--config-path {tpe_sweep.path.resolve()} --config-name best" in tpe_sweep.stdout

    rerun = tmp_path / "rerun"
    result = run_train(
        "--config-path",
        str(tpe_sweep.path),
        "--config-name",
        "best",
        f"hydra.run.dir={rerun}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((rerun / "metrics.json").read_text())
    assert metrics["value"] == pytest.approx(best_value, rel=1e-6)


@pytest.mark.long
@pytest.mark.xdist_group("grid")
def test_hydras_basic_sweeper_also_writes_results(grid_sweep: FinishedSweep) -> None:
    rows = assert_records_agree(grid_sweep.path)
    rates = ("0.1", "1e-07", "0.3", DIVERGING[0], "0.03", DIVERGING[1])
    assert [(r["optimizer.lr"], r["regularization"]) for r in rows] == [
        (lr, reg) for lr in rates for reg in ("none", "dropout")
    ]
    # a diverged trial is a row like any other and does not stop the sweep
    assert [r["status"] for r in rows if r["optimizer.lr"] in DIVERGING] == ["diverged"] * 4
    statuses = {r["status"] for r in rows if r["optimizer.lr"] not in DIVERGING}
    assert statuses == {"complete", "early_stopped"}


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
    sweep = sweep_dir_of(tmp_path)
    assert len(assert_records_agree(sweep)) == 2
    # the report works from what every sweeper leaves (drawn in the background)
    wait_for_page(sweep)
    assert (sweep / "history.png").is_file()


def assert_pruned_where_the_study_says(sweep: Path, epochs: int) -> list[dict[str, str]]:
    """Pruned rows stopped before the budget, at the step of their last report to the
    study; every other trial ran the whole budget (nothing else stops trials here)."""
    rows = assert_records_agree(sweep)
    study = load_recorded_study(sweep)
    trials = {t.number: t for t in study.trials}
    jobs = registered_jobs(sweep)
    for row in rows:
        trial = trials[jobs[int(row["number"])]]
        if row["status"] == "pruned":
            assert int(row["epochs"]) < epochs
            assert max(trial.intermediate_values) == int(row["epochs"])
        else:
            assert (row["status"], row["epochs"]) == ("complete", str(epochs))
    return rows


@pytest.mark.long
@pytest.mark.xdist_group("hyperband")
def test_hyperband_prunes_without_early_stopping(hyperband_sweep: FinishedSweep) -> None:
    rows = assert_pruned_where_the_study_says(hyperband_sweep.path, epochs=9)
    statuses = [r["status"] for r in rows]
    assert len(rows) == 12
    assert 0 < statuses.count("pruned") < 12
    study = load_recorded_study(hyperband_sweep.path)
    counts = {s: sum(t.state == s for t in study.trials) for s in (TrialState.PRUNED,)}
    assert counts[TrialState.PRUNED] == statuses.count("pruned")
    # the final progress line counts the pruned trials too
    assert f"{statuses.count('pruned')} pruned" in hyperband_sweep.stdout.split("[12/12]")[1]


@pytest.mark.xdist_group("hyperband")
def test_the_same_command_gives_the_same_sweep(
    hyperband_sweep: FinishedSweep, tmp_path: Path
) -> None:
    """Same seed, same trials, same pruning decisions, same results (on the CPU)."""
    again = run_train("-m", *HYPERBAND, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    columns = ("number", "status", "epochs", "optimizer.lr", "value")
    first = [tuple(r[c] for c in columns) for r in results(hyperband_sweep.path)]
    second = [tuple(r[c] for c in columns) for r in assert_records_agree(sweep_dir_of(tmp_path))]
    assert second == first


def test_successive_halving_with_the_random_sampler(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "hydra/sweeper=sha",
        "hydra/sweeper/sampler=random",
        "optimizer.lr=tag(log,interval(1e-5,1))",
        "hydra.sweeper.n_trials=9",
        "trainer.epochs=9",
        "~callbacks.early_stopping",
        "hydra.sweeper.report=false",
        "data=synthetic",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    rows = assert_pruned_where_the_study_says(sweep, epochs=9)
    assert any(r["status"] == "pruned" for r in rows)
    # A study does not store its pruner or sampler: the jobs' channel and the log do.
    assert read_channel(sweep)["pruner"]["_target_"] == "optuna.pruners.SuccessiveHalvingPruner"
    assert "hpsweep: RandomSampler, 9 trials" in result.stdout + result.stderr


def test_median_pruner_another_sampler_and_a_metric_to_maximize(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "hydra/sweeper=tpe",
        "hydra/sweeper/pruner=median",
        "hydra.sweeper.pruner.n_startup_trials=2",
        "hydra/sweeper/sampler=qmc",
        "optimizer.lr=tag(log,interval(1e-4,1e-1))",
        "hydra.sweeper.n_trials=6",
        "objective.metric=val/acc",
        "objective.mode=max",
        "hydra.sweeper.report=false",
        *FAST,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    rows = assert_records_agree(sweep)
    study = load_recorded_study(sweep)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert read_channel(sweep)["pruner"]["_target_"] == "optuna.pruners.MedianPruner"
    assert "hpsweep: QMCSampler, 6 trials" in result.stdout + result.stderr
    # the best is the highest accuracy, and best.yaml is that trial's config
    finished = [r for r in rows if r["status"] == "complete"]
    best = max(finished, key=lambda r: float(r["value"]))
    assert study.best_value == pytest.approx(float(best["value"]))
    best_config = (Path(best["job_dir"]) / ".hydra" / "config.yaml").read_text()
    assert (sweep / "best.yaml").read_text() == best_config


def test_an_app_that_returns_no_number_fails_its_trials_clearly(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        "import hydra\n\n\n"
        "@hydra.main()\n"
        "def main(cfg):\n"
        "    return None\n\n\n"
        "if __name__ == '__main__':\n"
        "    main()\n"
    )
    result = subprocess.run(
        [
            *(sys.executable, *WARNINGS_AS_ERRORS, str(app), "-m", "hydra/sweeper=hpsweep"),
            *("+x=1,2", "hydra.sweeper.max_failure_rate=1", "hydra.sweep.dir=sweep"),
            "hydra.sweeper.report=false",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    message = "the task function returned None; a sweep needs it to return the objective"
    assert message in result.stdout + result.stderr
    study = load_recorded_study(tmp_path / "sweep")
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 2
    for job in ("0", "1"):
        record = json.loads((tmp_path / "sweep" / job / "metrics.json").read_text())
        assert (record["status"], record["reason"][: len(message)]) == ("failed", message)


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
    # each of the 4 optimizer x model combinations, with the interval at each end: the
    # configs the bad-input check composes too (SweepSpec.overrides_to_check)
    assert "composed 8 configs: ok" in result.stdout
    assert not (tmp_path / "multirun").exists()


def test_conditional_parameters_from_a_search_preset(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "hparams_search=optimizer",
        "hydra.sweeper.n_trials=10",
        "hydra.sweeper.report=false",
        *FAST,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = assert_records_agree(sweep_dir_of(tmp_path))
    assert {r["optimizer"] for r in rows} == {"adam", "sgd"}
    for row in rows:
        # momentum is searched (and recorded) only in trials that chose SGD
        assert (row["optimizer.momentum"] != "") == (row["optimizer"] == "sgd")


def test_learning_rate_first_preset(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "hparams_search=lr_first",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.report=false",
        *FAST,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = assert_records_agree(sweep_dir_of(tmp_path))
    assert len(rows) == 3
    assert all(1e-5 <= float(r["optimizer.lr"]) <= 1e-1 for r in rows)
    study = load_recorded_study(sweep_dir_of(tmp_path))
    assert study.trials[0].distributions["optimizer.lr"].log


def test_results_and_the_report_while_the_sweep_runs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """results.csv grows as trials end, the running trial shows in TensorBoard before it
    ends, and `hpsweep report` reads a sweep that is still running."""
    from tests.test_tensorboard import read_run

    process = subprocess.Popen(
        [
            # two short trials, then one long enough to be read while it runs
            *(sys.executable, str(TRAIN_PY), "-m", "trainer.epochs=5,5,400"),
            *("~callbacks.early_stopping", "hydra.sweep.dir=sweep"),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sweep = tmp_path / "sweep"
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 400
        while process.poll() is None and time.monotonic() < deadline and 2 not in seen:
            if (sweep / "results.csv").is_file():
                seen.add(len(results(sweep)))
            time.sleep(0.05)
        assert seen >= {0, 1, 2}, f"row counts seen while running: {sorted(seen)}"

        # the third trial runs now: its scalars show within seconds, before it ends
        running = sweep / "02"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ended = (running / "metrics.json").exists()
            has_events = any(running.glob("events.out.tfevents.*"))
            if has_events and "val/loss" in read_run(running).Tags()["tensors"]:
                break
            assert not ended, "the trial ended before TensorBoard showed any of its epochs"
            time.sleep(0.2)
        else:
            raise AssertionError("the running trial's scalars never reached TensorBoard")

        shown = report_here(sweep, capfd)
        assert shown.returncode == 0, shown.stderr
        listed = re.search(r"(\d+) trials \((\d+) complete\)", shown.stdout)
        assert listed is not None, shown.stdout
        assert int(listed[1]) == int(listed[2]) >= 2
        assert (sweep / "history.png").is_file()
        assert (sweep / "report.html").is_file()
    finally:
        process.kill()
        process.wait()


def test_the_missions_learning_rate_line_searches_log_uniformly(tmp_path: Path) -> None:
    # 3 decades: log-uniform, so about 2 in 3 rates fall below 1e-2 (1 in 10 if linear).
    result = run_train(
        "-m",
        "optimizer.lr=interval(1e-4,1e-1)",
        "hydra.sweeper.n_trials=10",
        "data=synthetic",
        "trainer.epochs=1",
        "~hydra.callbacks.report",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    output = (result.stdout + result.stderr).splitlines()
    [start] = [line for line in output if "hpsweep: TPESampler" in line]
    assert start.endswith("; optimizer.lr: log-uniform [0.0001, 0.1] (spans 3 decades)")
    rows = sorted(assert_records_agree(sweep_dir_of(tmp_path)), key=lambda r: int(r["number"]))
    rates = [float(r["optimizer.lr"]) for r in rows[:10]]
    assert len(rates) == 10 and all(1e-4 <= lr <= 1e-1 for lr in rates)
    assert sum(lr < 1e-2 for lr in rates) >= 4, rates
    study = load_recorded_study(sweep_dir_of(tmp_path))
    assert study.trials[0].distributions["optimizer.lr"].log


def test_tag_linear_keeps_an_interval_linear(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "optimizer.lr=tag(linear,interval(1e-4,1e-1))",
        "regularization.dropout=interval(0,0.7)",
        "hydra.sweeper.dry_run=true",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "  optimizer.lr: uniform [0.0001, 0.1]\n" in result.stdout
    assert "  regularization.dropout: uniform [0, 0.7]\n" in result.stdout
