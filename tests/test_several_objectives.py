"""Several objectives (hydra.sweeper.direction=[...]): the settings, an app's return
value, the Pareto front by tables, and a plain Hydra app returning two values swept
end to end, read back from the study, results.csv and best.yaml."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hpsweep.sweep.channel import recorded_study
from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hpsweep.sweep.results import header, mark_pareto, pareto_flags, read_results
from hpsweep.sweep.settings import MO_ASHA, SettingsError, check_settings, effective_pruner
from tests.conftest import ROOT, WARNINGS_AS_ERRORS
from tests.sweep_files import assert_records_agree, sweep_dir_of
from tests.test_cli import run_train

TWO = ["minimize", "maximize"]
SHA = {"_target_": "optuna.pruners.SuccessiveHalvingPruner", "reduction_factor": 2}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"direction": ["minimize", "sideways"]}, "must be minimize, maximize or a list of them"),
        ({"direction": []}, "must be minimize, maximize or a list of them"),
        ({"direction": TWO, "repeats": 3}, "hydra.sweeper.repeats=3 with several objectives"),
        ({"direction": TWO, "repeats": "adaptive"}, "repeats=adaptive with several objectives"),
        (
            {"direction": TWO, "pruner": {"_target_": "optuna.pruners.MedianPruner"}},
            "MedianPruner cannot prune several objectives",
        ),
    ],
)
def test_bad_settings(settings: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("[", r"\[")):
        check_settings(settings)


def test_good_settings_and_the_pruner_they_run() -> None:
    check_settings({"direction": TWO, "pruner": SHA})
    check_settings({"direction": ["maximize"], "repeats": 3})  # a list of one: one objective
    assert effective_pruner(SHA, "minimize") == SHA
    assert effective_pruner(SHA, TWO) == {
        "_target_": MO_ASHA,
        "min_resource": 1,
        "reduction_factor": 2,
        "min_early_stopping_rate": 0,
    }
    hyperband = {"_target_": "optuna.pruners.HyperbandPruner", "min_resource": "auto"}
    assert effective_pruner(hyperband, TWO)["min_resource"] == 1


@pytest.mark.parametrize(
    ("returned", "pruned_at", "status", "values", "reason"),
    [
        ((0.5, 7), None, RunStatus.COMPLETE, (0.5, 7.0), ""),
        ([0.5, 7.0], 3, RunStatus.PRUNED, (0.5, 7.0), ""),
        ((0.5, math.nan), None, RunStatus.DIVERGED, None, "the objectives are (0.5, nan)"),
        ((0.5,), None, RunStatus.FAILED, None, "lists 2 objectives, so it must return 2"),
        (0.5, None, RunStatus.FAILED, None, "the task function returned 0.5"),
        ((0.5, "fast"), None, RunStatus.FAILED, None, "must return 2 numbers"),
        ((0.5, True), None, RunStatus.FAILED, None, "must return 2 numbers"),
    ],
)
def test_what_an_app_returns(
    returned: object, pruned_at: int | None, status: RunStatus, values: tuple | None, reason: str
) -> None:
    outcome = TrialOutcome.of_return(returned, pruned_at=pruned_at, objectives=2)
    assert (outcome.status, outcome.values) == (status, values)
    assert reason in outcome.reason
    assert outcome.value == (values[0] if values else None)
    assert TrialOutcome.from_json(outcome.to_json()) == outcome  # metrics.json round trip


@pytest.mark.parametrize(
    ("points", "directions", "front"),
    [
        ([[1, 1], [2, 2]], ["minimize", "minimize"], [True, False]),
        ([[1, 1], [2, 2]], ["minimize", "maximize"], [True, True]),
        ([[1, 1], [2, 2]], ["maximize", "maximize"], [False, True]),
        ([[1, 5], [2, 4], [3, 3], [3, 5]], ["minimize", "minimize"], [True, True, True, False]),
        ([[1, 1], [1, 1]], ["minimize", "minimize"], [True, True]),  # equal: neither dominates
        ([[1, 2, 3], [1, 2, 4]], ["minimize"] * 3, [True, False]),
    ],
)
def test_pareto_flags(points: list, directions: list[str], front: list[bool]) -> None:
    assert pareto_flags(points, directions) == front


def test_mark_pareto_fills_the_column_for_finished_trials_only(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    columns = header(["x"], objectives=2)
    assert columns[:6] == ["number", "status", "value", "objective_1", "objective_2", "pareto"]
    rows = [
        ("0", "complete", "1", "5"),
        ("1", "complete", "2", "6"),  # dominated by 0
        ("2", "pruned", "0", "0"),  # would dominate, but pruned trials never rank
        ("3", "failed", "", ""),
        ("4", "early_stopped", "0.5", "9"),
    ]
    lines = [",".join(columns)]
    for number, status, first, second in rows:
        cells = {"number": number, "status": status, "objective_1": first, "objective_2": second}
        lines.append(",".join(cells.get(c, "") for c in columns))
    path.write_text("\n".join(lines) + "\n")
    front = mark_pareto(path, ["minimize", "minimize"])
    assert [r["number"] for r in front] == ["0", "4"]
    _, written = read_results(path)
    assert [r["pareto"] for r in written] == ["true", "false", "", "", "true"]


APP = ROOT / "examples" / "hydra_app" / "two_objectives.py"


def sweep_app(tmp_path: Path, *args: str) -> Path:
    sweep = tmp_path / "sweep"
    result = subprocess.run(
        [
            *(sys.executable, *WARNINGS_AS_ERRORS, str(APP), "-m", "x=interval(-2,2)", *args),
            *("hydra.sweeper.report=false", f"hydra.sweep.dir={sweep}"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "the Pareto front:" in result.stdout + result.stderr  # the summary shows it
    return sweep


@pytest.mark.parametrize(
    ("preset", "n_trials", "pruned"), [("tpe", 12, False), ("hyperband", 16, True)]
)
def test_an_app_returning_two_values_sweeps_to_a_front(
    preset: str, n_trials: int, pruned: bool, tmp_path: Path
) -> None:
    sweep = sweep_app(
        tmp_path,
        f"hydra/sweeper={preset}",
        "hydra.sweeper.direction=[minimize,maximize]",
        f"hydra.sweeper.n_trials={n_trials}",
    )
    rows = assert_records_agree(sweep)  # the study's values are the objective columns
    assert len(rows) == n_trials
    front = [r for r in rows if r["pareto"] == "true"]
    assert len(front) >= 2
    assert any(r["status"] == "pruned" for r in rows) is pruned
    with recorded_study(sweep) as study:
        assert [d.name for d in study.directions] == ["MINIMIZE", "MAXIMIZE"]
        states = {t.number: t.state.name for t in study.trials}
        on_front = {t.number for t in study.best_trials}  # Optuna's own front
    assert {int(r["number"]) for r in front} == on_front
    assert {states[int(r["number"])] for r in rows} <= {"COMPLETE", "PRUNED"}
    best = yaml.safe_load((sweep / "best.yaml").read_text())["front"]
    assert sorted(m["number"] for m in best) == sorted(on_front)
    for member in best:
        row = next(r for r in rows if int(r["number"]) == member["number"])
        assert member["objectives"] == [float(row["objective_1"]), float(row["objective_2"])]
        assert member["rerun"].endswith(f"{row['job_dir']}/.hydra --config-name config")
    # hpsweep report draws the front, and report.html shows it.
    from hpsweep.report.cli import main

    assert main(["report", str(sweep)]) == 0
    assert (sweep / "pareto_front.png").stat().st_size > 10_000
    assert 'alt="pareto_front"' in (sweep / "report.html").read_text()


@pytest.mark.long
def test_train_py_sweeps_val_loss_against_model_size(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "hydra/sweeper=hyperband",
        "optimizer.lr=tag(log,interval(1e-4,1e-1))",
        "model.width=choice(8,32,128,512)",
        "objective.metric=[val/loss,model/params]",
        "hydra.sweeper.n_trials=16",
        "trainer.epochs=9",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    rows = assert_records_agree(sweep)
    assert len(rows) == 16
    assert len([r for r in rows if r["pareto"] == "true"]) >= 2
    assert any(r["status"] == "pruned" for r in rows)
    for row in rows:  # the objectives are the run's own metrics
        objectives = [float(row["objective_1"]), float(row["objective_2"])]
        assert objectives == [float(row["val/loss"]), float(row["model/params"])]
    with recorded_study(sweep) as study:
        assert [d.name for d in study.directions] == ["MINIMIZE", "MINIMIZE"]
    from hpsweep.report.cli import main

    assert main(["report", str(sweep)]) == 0
    assert [p.name for p in sweep.glob("*pareto*.png")] == ["pareto_front.png"]


@pytest.mark.parametrize(
    ("points", "front", "area"),
    [
        ([(1.0, 1.0)], [(1.0, 1.0)], 1.0 * 1.0),  # against the reference (2, 2)
        ([(1.0, 1.0), (1.5, 1.5)], [(1.0, 1.0)], 1.0),  # dominated: no area of its own
        ([(0.5, 1.5), (1.5, 0.5)], [(0.5, 1.5), (1.5, 0.5)], 1.5 * 0.5 + 0.5 * 1.0),
        ([(3.0, 0.5)], [(3.0, 0.5)], 0.0),  # beyond the reference: nothing
    ],
)
def test_the_pareto_benchs_front_and_hypervolume(points: list, front: list, area: float) -> None:
    from bench.pareto import front_of, hypervolume

    assert front_of(points) == front
    assert hypervolume(front_of(points), (2.0, 2.0)) == pytest.approx(area)
