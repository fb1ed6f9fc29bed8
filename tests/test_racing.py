"""Racing (hydra.sweeper.repeats=adaptive): the race's decisions by tables, and a sweep
end to end, read back from the study, results.csv and the jobs' own records."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from hpsweep.report.loading import load_sweep
from hpsweep.report.page import trials_table
from hpsweep.search.racing import Race, resumed_race
from hpsweep.search.repeats import REPEATS_ATTR, RepeatPlan, configuration_outcome
from hpsweep.sweep.channel import recorded_study, registered_jobs
from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hpsweep.sweep.settings import SettingsError, check_settings
from tests.sweep_files import assert_records_agree, sweep_dir_of
from tests.test_cli import run_train

# One seed against the incumbent alone (no pairs yet): unpaired, the incumbent's sd
# 0.0129 times sqrt(2), t(0.9, 3 dof) = 1.638: excluded when worse by > 0.0299.
# k >= 2 seeds: paired, the challenger's own differences from the incumbent's first k
# (k - 1 dof): [0.125, 0.125] differs by 0.025, 0.005 (sd 0.0141, t(0.9, 1) = 3.078):
# excluded when worse by > 3.078 * 0.0141 / sqrt(2) = 0.0308 on the mean.
INCUMBENT = [0.10, 0.12, 0.11, 0.09]


@pytest.mark.parametrize(
    ("challenger", "another"),
    [
        ([0.30], False),  # far worse than 0.10 on seed 0
        ([0.125], True),  # worse by 0.025 < 0.0299: could still be the best
        ([0.135], False),  # worse by 0.035
        ([0.05], True),  # better
        ([0.125, 0.125], True),  # worse by 0.015 < 0.0308
        ([0.13, 0.13], True),  # by 0.020, same spread: < 0.0308
        ([0.16, 0.17], False),  # by 0.055 against 3.078 * 0.0071 / sqrt(2) = 0.0154
        ([0.10, 0.13, 0.11], True),  # by 0.0033 against 1.886 * 0.0058 / sqrt(3) = 0.0063
        ([0.115, 0.125, 0.115], False),  # by 0.0083, the same spread
        ([0.05, 0.05, 0.05, 0.05], False),  # the best, but max_repeats reached
    ],
)
def test_another_seed(challenger: list[float], another: bool) -> None:
    race = Race(max_repeats=4, significance=0.1)
    race.set_values(0, INCUMBENT)
    race.set_values(1, challenger)
    assert race.another_seed(1) is another
    # Maximizing 1 - value is the same race.
    flipped = Race(max_repeats=4, significance=0.1, direction="maximize")
    flipped.set_values(0, [1 - v for v in INCUMBENT])
    flipped.set_values(1, [1 - v for v in challenger])
    assert flipped.another_seed(1) is another


@pytest.mark.parametrize(
    ("challenger", "another"), [([0.135], False), ([0.115], False), ([0.105], True)]
)
def test_one_seed_is_tested_with_the_differences_of_others(
    challenger: list[float], another: bool
) -> None:
    # Configuration 2 differs from the incumbent by 0.01, 0.02, 0.01 on seeds 0-2: the
    # paired sd 0.0058 (2 dof, t = 1.886) makes the margin at one seed 0.0109, against
    # 0.0299 unpaired. A seed that is hard for one configuration is hard for the other.
    race = Race(max_repeats=4)
    race.set_values(0, INCUMBENT)
    race.set_values(2, [0.11, 0.14, 0.12])
    race.set_values(1, challenger)
    sd, dof = race.difference_sd(0)  # type: ignore[misc]
    assert (round(sd, 4), dof) == (0.0058, 2)
    assert race.another_seed(1) is another


def test_a_mean_above_the_incumbents_keeps_a_configuration_in() -> None:
    # Seed 0 is easy (0.08 against the incumbent's mean 0.105): ruled out by the paired
    # test on seed 0, a configuration at 0.10 would still rank above the incumbent by
    # its mean; it gets another seed to settle that. At 0.11 it ranks below: out.
    race = Race(max_repeats=4)
    race.set_values(0, [0.08, 0.12, 0.11, 0.11])
    race.set_values(2, [0.09, 0.14, 0.12])  # paired sd 0.0058: margin 0.0109 at 1 seed
    race.set_values(1, [0.10])
    assert race.another_seed(1)
    race.set_values(1, [0.11])
    assert not race.another_seed(1)


def test_the_incumbent_has_the_most_seeds_and_races_to_the_last() -> None:
    race = Race(max_repeats=3)
    race.set_values(0, [0.5])
    assert race.incumbent() == 0 and race.another_seed(0)  # alone: it is the incumbent
    race.set_values(1, [0.1])  # better, but one seed against one: no sd yet, not excluded
    assert race.incumbent() == 1 and race.pooled_sd() is None and race.another_seed(0)
    race.set_values(0, [0.5, 0.52])
    assert race.incumbent() == 0  # most seeds, though worse: 1 must catch up
    assert race.another_seed(1) and not race.excluded(0)
    race.set_values(1, [0.1, 0.12])
    assert race.incumbent() == 1  # as many seeds, the better mean
    assert race.excluded(0) and not race.another_seed(0)
    race.set_values(1, [0.1, 0.12, 0.11])
    assert not race.another_seed(1)  # max_repeats


def test_pooled_sd_weights_by_degrees_of_freedom() -> None:
    race = Race()
    race.set_values(0, [1.0, 3.0])  # variance 2, 1 dof
    race.set_values(1, [0.0, 1.0, 2.0])  # variance 1, 2 dof
    race.set_values(2, [7.0])  # no dof
    race.set_values(3, [1.0, float("nan")])  # a non-finite value is no seed's value
    sd, dof = race.pooled_sd()  # type: ignore[misc]
    assert dof == 3 and sd == pytest.approx(((2 * 1 + 1 * 2) / 3) ** 0.5)


def test_resumed_race_reads_the_told_configurations_values() -> None:
    distributions = {"x": FloatDistribution(0, 1)}
    told = create_trial(
        state=TrialState.COMPLETE,
        value=0.11,
        params={"x": 0.5},
        distributions=distributions,
        user_attrs={REPEATS_ATTR: {"value_sd": 0.01, "repeats": 2, "values": "0.1;0.12"}},
    )
    pruned = create_trial(
        state=TrialState.PRUNED,
        params={"x": 0.1},
        distributions=distributions,
        user_attrs={REPEATS_ATTR: {"value_sd": "", "repeats": 0, "values": "0.9"}},
    )
    told.number, pruned.number = 4, 5
    plan = RepeatPlan(adaptive=True, max_repeats=3, significance=0.05)
    race = resumed_race(plan, "maximize", [told, pruned])
    assert race.values == {4: [0.1, 0.12]}
    assert (race.max_repeats, race.significance, race.direction) == (3, 0.05, "maximize")


def test_a_one_seed_row_takes_the_races_noise_sd() -> None:
    plan = RepeatPlan(adaptive=True, min_repeats=1)
    one = [TrialOutcome(RunStatus.COMPLETE, 0.3)]
    _, columns = configuration_outcome(one, plan, noise_sd=0.02)
    assert columns == {"value_sd": 0.02, "repeats": 1, "values": "0.3"}
    two = [TrialOutcome(RunStatus.COMPLETE, 0.3), TrialOutcome(RunStatus.COMPLETE, 0.5)]
    _, columns = configuration_outcome(two, plan, noise_sd=0.02)
    assert columns is not None and columns["value_sd"] == pytest.approx(
        statistics.stdev([0.3, 0.5])
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"repeats": "adaptiv"},
            "hydra.sweeper.repeats=adaptiv: must be an integer >= 1 or adaptive",
        ),
        ({"repeats": "adaptive", "max_repeats": 0}, "hydra.sweeper.max_repeats=0: must be an"),
        ({"significance": 0}, "hydra.sweeper.significance=0: must be a number strictly between"),
        ({"significance": 1.0}, "hydra.sweeper.significance=1.0: must be a number strictly"),
        ({"significance": True}, "hydra.sweeper.significance=True"),
        ({"repeats": "adaptive", "min_repeats": 2}, "min_repeats=2: it is for fixed repeats"),
    ],
)
def test_bad_racing_settings(settings: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("+", r"\+")):
        check_settings(settings)
    check_settings({"repeats": "adaptive", "max_repeats": 1, "significance": 0.5})


@pytest.mark.long
def test_a_racing_sweep_with_pruning_records_seeds_where_the_race_put_them(
    tmp_path: Path,
) -> None:
    result = run_train(
        "-m",
        "hydra/sweeper=sha",
        "optimizer.lr=tag(log,interval(1e-4,1))",
        "hydra.sweeper.n_trials=8",
        "hydra.sweeper.repeats=adaptive",
        "hydra.sweeper.max_repeats=3",
        "hydra.sweeper.pruner.min_resource=1",
        "trainer.epochs=3",
        "data.val_seed=${trainer.seed}",
        "~callbacks.early_stopping",
        "hydra.sweeper.report=false",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = sweep_dir_of(tmp_path)
    rows = assert_records_agree(sweep)
    assert len(rows) == 8
    jobs = registered_jobs(sweep)
    seeds = {
        int(r["number"]): sum(t == jobs[int(r["number"])] for t in jobs.values()) for r in rows
    }
    assert sum(seeds.values()) == len(jobs) < 8 * 3  # fewer jobs than fixed repeats
    assert all(r["value_sd"] for r in rows if r["status"] == "complete")
    # A pruned configuration got no more seeds.
    pruned = [r for r in rows if r["status"] == "pruned"]
    assert pruned and all(seeds[int(r["number"])] == 1 for r in pruned)
    # The first configuration is the first incumbent: it ran every seed. The best by
    # mean has the most seeds; one that stopped early was worse than the incumbent.
    complete = [r for r in rows if r["status"] == "complete"]
    best = min(complete, key=lambda r: float(r["value"]))
    assert seeds[int(best["number"])] == 3 == seeds[0]
    assert any(seeds[int(r["number"])] < 3 for r in complete)
    with recorded_study(sweep) as study:
        for row in complete:
            trial = study.trials[jobs[int(row["number"])]]
            values = [float(v) for v in row["values"].split(";")]
            assert trial.user_attrs[REPEATS_ATTR]["values"] == row["values"]
            assert trial.value == pytest.approx(statistics.fmean(values), rel=1e-12)
            assert len(values) == seeds[int(row["number"])]
    # Seeds per configuration: in the summary the sweep printed, and in report.html's table.
    assert "(n=3)" in result.stdout + result.stderr
    table = trials_table(load_sweep(sweep))
    assert all(f"(n={seeds[int(r['number'])]})" in table for r in complete)
