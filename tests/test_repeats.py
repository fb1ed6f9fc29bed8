"""Repeats over seeds (hydra.sweeper.repeats): the pure decisions by tables, the pruning
protocol across repeats against a real study's storage, `hpsweep confirm`'s statistics,
and one small sweep end to end, read back from what it records."""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path

import optuna
import pytest
from omegaconf import DictConfig, OmegaConf

from hpsweep.report.confirm import Confirmed, t_interval, verdict, welch_p
from hpsweep.report.loading import Trial
from hpsweep.search.repeats import (
    RepeatPlan,
    aggregate,
    configuration_outcome,
    job_numbers,
    jobs_of,
)
from hpsweep.sweep.channel import JOURNAL_FILE, make_storage, register_job, write_channel
from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hpsweep.sweep.results import header, parameter_columns, ranked_rows
from hpsweep.sweep.settings import SettingsError, check_settings
from hpsweep.sweep.trial import PRUNED_AT_ATTR, SweepTrial
from tests.sweep_files import assert_records_agree, results, sweep_dir_of
from tests.test_cli import run_train

C, E, P, D, F = (
    RunStatus.COMPLETE,
    RunStatus.EARLY_STOPPED,
    RunStatus.PRUNED,
    RunStatus.DIVERGED,
    RunStatus.FAILED,
)


def outcome(status: RunStatus, value: float | None = None, epochs: int = 3) -> TrialOutcome:
    return TrialOutcome(
        status,
        value,
        epochs=epochs,
        seconds=1.0,
        reason="" if status.has_value else f"it {status}",
        pruned_at=epochs if status == P else None,
    )


# -- expanding a configuration into jobs ------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "plan", "expected"),
    [
        pytest.param(["x=1"], RepeatPlan(1), [["x=1"]], id="one-repeat-unchanged"),
        pytest.param(
            ["x=1"],
            RepeatPlan(3, "trainer.seed", 0),
            [["x=1", "trainer.seed=0"], ["x=1", "trainer.seed=1"], ["x=1", "trainer.seed=2"]],
            id="three-seeds-from-0",
        ),
        pytest.param(
            ["trainer.seed=7", "x=1"],
            RepeatPlan(2, "trainer.seed", 7),
            [["x=1", "trainer.seed=7"], ["x=1", "trainer.seed=8"]],
            id="a-fixed-seed-is-the-base",
        ),
        pytest.param(
            [], RepeatPlan(2, "seed", 100), [["seed=100"], ["seed=101"]], id="any-app-key"
        ),
    ],
)
def test_jobs_of(overrides: list[str], plan: RepeatPlan, expected: list[list[str]]) -> None:
    assert jobs_of(overrides, plan) == expected


def test_plan_takes_the_apps_seed_and_refuses_a_missing_key() -> None:
    config = OmegaConf.create({"trainer": {"seed": 5}})
    assert RepeatPlan.of(config, 3, "trainer.seed", None).base_seed == 5
    assert RepeatPlan.of(config, 1, "nope", None).repeats == 1  # not needed: not read
    with pytest.raises(ValueError, match=re.escape("hydra.sweeper.seed_key=nope")):
        RepeatPlan.of(config, 3, "nope", None)


def test_job_numbers_are_consecutive_per_configuration() -> None:
    plan = RepeatPlan(3)
    assert [job_numbers(10, i, plan) for i in range(2)] == [[10, 11, 12], [13, 14, 15]]


# -- aggregating the repeats' outcomes ----------------------------------------------------

MEAN3 = statistics.fmean([0.1, 0.2, 0.3])


@pytest.mark.parametrize(
    ("outcomes", "min_repeats", "status", "value", "finished"),
    [
        pytest.param([(C, 0.1), (C, 0.2), (C, 0.3)], None, C, MEAN3, 3, id="all-complete"),
        pytest.param([(E, 0.1), (E, 0.2), (E, 0.3)], None, E, MEAN3, 3, id="all-early"),
        pytest.param([(C, 0.1), (E, 0.2), (C, 0.3)], None, C, MEAN3, 3, id="mixed-finished"),
        pytest.param([(P, 0.1), (P, 0.2), (P, 0.3)], None, P, MEAN3, 0, id="all-pruned"),
        pytest.param([(C, 0.1), (P, 0.3)], None, P, 0.2, 0, id="one-pruned-prunes-all"),
        pytest.param([(C, 0.1), (F, None), (C, 0.3)], None, F, None, 2, id="a-failure-fails"),
        pytest.param([(C, 0.1), (D, None), (C, 0.3)], None, D, None, 2, id="a-divergence"),
        pytest.param([(C, 0.1), (F, None), (C, 0.3)], 2, C, 0.2, 2, id="min-repeats-met"),
        pytest.param([(C, 0.1), (F, None), (D, None)], 2, F, None, 1, id="min-repeats-unmet"),
        pytest.param([(F, None), (F, None)], 1, F, None, 0, id="nothing-finished"),
    ],
)
def test_aggregate(
    outcomes: list[tuple[RunStatus, float | None]],
    min_repeats: int | None,
    status: RunStatus,
    value: float | None,
    finished: int,
) -> None:
    repeated = aggregate([outcome(s, v) for s, v in outcomes], min_repeats)
    assert repeated.outcome.status == status
    assert repeated.finished == finished
    if value is None:
        assert repeated.outcome.value is None
        assert repeated.outcome.reason  # the first reason, said
    else:
        assert repeated.outcome.value == pytest.approx(value)
    assert repeated.values == tuple(v for _, v in outcomes)


def test_aggregate_columns_and_sd() -> None:
    repeated = aggregate([outcome(C, 0.081), outcome(C, 0.094), outcome(C, 0.088)])
    columns = repeated.columns()
    assert columns["values"] == "0.081;0.094;0.088"
    assert columns["repeats"] == 3
    assert columns["value_sd"] == pytest.approx(statistics.stdev([0.081, 0.094, 0.088]))
    single = aggregate([outcome(C, 0.5)])
    assert single.columns()["value_sd"] == ""  # no sd of one value


def test_aggregate_notes_the_tolerated_failure_and_averages_metrics() -> None:
    ok = TrialOutcome(C, 0.2, epochs=3, metrics={"val/acc": 0.9, "note": "a"})
    ok2 = TrialOutcome(C, 0.4, epochs=5, metrics={"val/acc": 0.8, "note": "b"})
    repeated = aggregate([ok, outcome(F), ok2], min_repeats=2)
    assert repeated.outcome.reason == "repeat 1 failed: it failed"
    assert repeated.outcome.metrics == {"val/acc": pytest.approx(0.85), "note": "a"}
    assert repeated.outcome.epochs == 5


def test_configuration_outcome_without_repeats_is_the_jobs_own() -> None:
    single = outcome(C, 0.3)
    assert configuration_outcome([single], RepeatPlan(1)) == (single, None)


# -- results.csv: columns and ranking ----------------------------------------------------


def test_header_with_repeats() -> None:
    assert header(["x"]) == [
        *("number", "status", "value", "epochs", "seconds", "started", "finished"),
        *("job_dir", "x", "reason"),
    ]
    with_repeats = header(["x"], repeats=True)
    assert with_repeats[:6] == ["number", "status", "value", "value_sd", "repeats", "values"]
    assert parameter_columns(with_repeats) == ["x"]


@pytest.mark.parametrize(
    ("rows", "mode", "order"),
    [
        pytest.param([("0.2", "0.01"), ("0.1", "0.5")], "min", [1, 0], id="by-mean"),
        pytest.param([("0.1", "0.05"), ("0.1", "0.01")], "min", [1, 0], id="tie-lower-sd"),
        pytest.param([("0.9", "0.05"), ("0.9", "0.01")], "max", [1, 0], id="tie-max-lower-sd"),
        pytest.param([("0.1", ""), ("0.1", "")], "min", [0, 1], id="no-sd-keeps-order"),
    ],
)
def test_ranked_rows_by_mean_then_sd(
    rows: list[tuple[str, str]], mode: str, order: list[int]
) -> None:
    table = [
        {"number": str(i), "status": "complete", "value": v, "value_sd": sd}
        for i, (v, sd) in enumerate(rows)
    ]
    assert [int(r["number"]) for r in ranked_rows(table, mode)] == order


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"repeats": 0}, "hydra.sweeper.repeats=0"),
        ({"repeats": 2, "min_repeats": 3}, "must be at most hydra.sweeper.repeats=2"),
        ({"min_repeats": 0}, "hydra.sweeper.min_repeats=0"),
        ({"seed_key": ""}, "hydra.sweeper.seed_key="),
    ],
)
def test_bad_repeat_settings(settings: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        check_settings(settings)


def test_repeats_need_the_apps_seed_key() -> None:
    from hpsweep.hydra_callbacks.validate import validate_sweeper_settings
    from hpsweep.sweep.settings import SWEEPER_TARGET as HPSWEEP_SWEEPER
    from hpsweep.training.validation import ConfigError

    def config(seed_key: str) -> DictConfig:
        sweeper = {"_target_": HPSWEEP_SWEEPER, "repeats": 2, "seed_key": seed_key}
        return OmegaConf.create({"trainer": {"seed": 0}, "hydra": {"sweeper": sweeper}})

    validate_sweeper_settings(config("trainer.seed"))
    with pytest.raises(ConfigError, match=re.escape("hydra.sweeper.seed_key=seed: repeats")):
        validate_sweeper_settings(config("seed"))


# -- pruning across repeats ---------------------------------------------------------------


def make_sweep(tmp_path: Path, repeats: int, pruner: dict) -> optuna.Study:
    storage_spec = str(tmp_path / JOURNAL_FILE)
    study = optuna.create_study(study_name="hpsweep", storage=make_storage(storage_spec))
    write_channel(tmp_path, storage_spec, "hpsweep", pruner, repeats)
    return study


THRESHOLD = {"_target_": "optuna.pruners.ThresholdPruner", "upper": 1.0}


def test_the_first_repeat_decides_the_rung_and_the_others_stop_there(tmp_path: Path) -> None:
    study = make_sweep(tmp_path, 3, THRESHOLD)
    trial = study.ask()
    for repeat in range(3):
        register_job(tmp_path, repeat, trial.number, repeat=repeat)
    first, second, third = (SweepTrial.for_job(tmp_path, job) for job in range(3))
    assert first is not None and second is not None and third is not None
    assert (first.repeat, second.repeat, third.repeat) == (0, 1, 2)
    # In parallel: repeats 0 and 1 reach step 1 together, below the threshold.
    first.report(0.5, step=1)
    second.report(0.7, step=1)
    assert not first.should_prune() and not second.should_prune()
    assert study.trials[0].intermediate_values == {1: 0.5}  # the first, alone then
    # Step 2: the mean of the two is above the threshold: pruned at 2.
    second.report(1.4, step=2)
    first.report(5.0, step=2)
    assert second.should_prune()
    assert study.trials[0].intermediate_values[2] == pytest.approx(1.4)
    assert study.trials[0].user_attrs[PRUNED_AT_ATTR] == 2
    assert first.should_prune() and first.pruned_at == 2
    # The third, started later (one after another), stops at the same rung.
    third.report(0.1, step=1)
    assert not third.should_prune()
    third.report(0.1, step=2)
    assert third.should_prune() and third.pruned_at == 2


def test_without_a_pruner_repeats_touch_no_storage(tmp_path: Path) -> None:
    study = make_sweep(tmp_path, 2, {"_target_": "optuna.pruners.NopPruner"})
    trial = study.ask()
    register_job(tmp_path, 0, trial.number, repeat=0)
    job = SweepTrial.for_job(tmp_path, 0)
    assert job is not None
    job.report(9.0, step=1)
    assert not job.should_prune()
    assert study.trials[0].user_attrs == {} and study.trials[0].intermediate_values == {}


# -- hpsweep confirm's statistics --------------------------------------------------------


def test_t_interval_and_welch() -> None:
    low, high = t_interval([1.0, 2.0, 3.0])
    # mean 2, sd 1, n 3: t(0.975, 2) = 4.3027
    assert (low, high) == pytest.approx((2 - 4.302653 / math.sqrt(3), 2 + 4.302653 / 3**0.5))
    assert math.isnan(t_interval([1.0])[0])
    assert welch_p([1.0, 1.1, 0.9, 1.0], [5.0, 5.1, 4.9, 5.0]) < 1e-4
    assert welch_p([1.0, 2.0, 3.0], [1.1, 2.1, 2.9]) > 0.5
    assert math.isnan(welch_p([1.0], [2.0, 3.0]))


def confirmed(rank: int, values: list[float]) -> Confirmed:
    trial = Trial(rank, "complete", 0.0, 3, 1.0, None, {})
    return Confirmed(rank, trial, tuple(range(len(values))), tuple(values))


@pytest.mark.parametrize(
    ("first", "second", "words"),
    [
        ([0.10, 0.11, 0.09], [0.50, 0.51, 0.49], "winner: trial 1 vs runner-up trial 2: dist"),
        ([0.50, 0.51, 0.49], [0.10, 0.11, 0.09], "the sweep ranked it 2"),
        ([0.10, 0.30, 0.20], [0.15, 0.25, 0.22], "not distinguishable"),
    ],
)
def test_verdict(first: list[float], second: list[float], words: str) -> None:
    assert words in verdict([confirmed(1, first), confirmed(2, second)], "min")


# -- end to end ---------------------------------------------------------------------------


@pytest.mark.long
def test_a_sweep_with_repeats_records_one_row_per_configuration(tmp_path: Path) -> None:
    result = run_train(
        "-m",
        "optimizer.lr=tag(log,interval(1e-3,1e-1))",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.repeats=2",
        "data=synthetic",
        "trainer.epochs=2",
        "hydra.sweeper.report=false",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    rows = assert_records_agree(sweep)
    assert [r["number"] for r in rows] == ["0", "2"]
    assert all(r["repeats"] == "2" and r["value_sd"] for r in rows)
    assert sorted(p.name for p in sweep.glob("[0-9][0-9]")) == ["00", "01", "02", "03"]
    assert [
        (p / ".hydra" / "overrides.yaml").read_text().count("trainer.seed=")
        for p in [
            sweep / "00",
            sweep / "01",
        ]
    ] == [1, 1]
    assert "± " in result.stdout + result.stderr  # the summary's mean ± sd
    study = optuna.load_study(study_name="hpsweep", storage=make_storage(str(sweep / JOURNAL_FILE)))
    assert len(study.trials) == 2  # one trial per configuration
    assert results(sweep)[0]["value"] == repr(study.trials[0].value)

    # hpsweep confirm: the leader re-trained on 2 fresh seeds, through train.py
    from hpsweep.report.cli import main

    assert main(["confirm", str(sweep), "--top", "1", "--seeds", "2", "--seed-start", "7"]) == 0
    [row] = results_of(sweep / "confirm.csv")
    assert (row["n"], row["seeds"], row["failed"]) == ("2", "7;8", "0")
    assert len(row["values"].split(";")) == 2
    assert float(row["ci_low"]) <= float(row["mean"]) <= float(row["ci_high"])
    seed_runs = sorted(p.name for p in (sweep / "confirm").glob("*/seed_*"))
    assert seed_runs == ["seed_7", "seed_8"]


def results_of(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="") as file:
        return list(csv.DictReader(file))
