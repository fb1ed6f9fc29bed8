"""Population Based Training (hydra/sweeper=pbt): its decisions by tables, its bad
input, and sweeps end to end whose study, results.csv and TensorBoard runs are read
back and must agree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from hpsweep.hydra_callbacks.validate import pbt_warning
from hpsweep.report.cli import main as hpsweep_cli
from hpsweep.search.pbt import (
    PBTSettings,
    boundaries,
    decision_rng,
    exploit_source,
    explore,
    on_grid,
    quantile_size,
)
from hpsweep.search.population import PBT_ATTR, Population, Segment, schedule_of
from hpsweep.sweep.channel import recorded_study, registered_jobs, registered_pid
from hpsweep.sweep.results import ended_within
from hpsweep.sweep.settings import SettingsError, check_settings
from tests.conftest import ROOT, WARNINGS_AS_ERRORS
from tests.sweep_files import (
    assert_records_agree,
    results,
    start_train,
    stop_sweep_after_rows,
    sweep_dir_of,
)
from tests.test_cli import run_train

LR = FloatDistribution(1e-5, 1.0, log=True)

# -- decisions, by tables ------------------------------------------------------------


@pytest.mark.parametrize(
    ("epochs", "interval", "ends"),
    [(30, 5, [5, 10, 15, 20, 25, 30]), (7, 3, [3, 6, 7]), (2, 1, [1, 2])],
)
def test_boundaries(epochs: int, interval: int, ends: list[int]) -> None:
    assert boundaries(epochs, interval) == ends


@pytest.mark.parametrize(
    ("members", "quantile", "size"),
    [(1, 0.25, 0), (2, 0.25, 1), (3, 0.25, 1), (4, 0.25, 1), (8, 0.25, 2), (10, 0.5, 5)],
)
def test_quantile_size(members: int, quantile: float, size: int) -> None:
    assert quantile_size(members, quantile) == size


SCORES = {0: 0.2, 1: 0.5, 2: 0.4, 3: 0.9}


@pytest.mark.parametrize(
    ("member", "scores", "direction", "source"),
    [
        (3, SCORES, "minimize", 0),  # the worst of 4 takes the best's state
        (1, SCORES, "minimize", None),  # the middle continues its own
        (0, SCORES, "minimize", None),  # the best continues its own
        (0, SCORES, "maximize", 3),  # maximizing, 0 is the worst and 3 the best
        (0, {0: 0.2}, "minimize", None),  # alone at this epoch: nobody to rank against
        (1, {0: 0.2, 1: 0.3}, "minimize", 0),  # two: the worse exploits the better
    ],
)
def test_exploit_source(
    member: int, scores: dict[int, float], direction: str, source: int | None
) -> None:
    assert exploit_source(member, scores, 0.25, direction, np.random.default_rng(0)) == source


def test_explore_scales_or_redraws_within_bounds() -> None:
    distributions = {
        "optimizer.lr": LR,
        "regularization.dropout": FloatDistribution(0.0, 0.7),
        "model.depth": IntDistribution(1, 4),
        "optimizer": CategoricalDistribution(["adam", "sgd"]),
    }
    params = {"optimizer.lr": 0.01, "regularization.dropout": 0.69, "model.depth": 3}
    params["optimizer"] = "adam"
    scaled = explore(params, distributions, 0.0, np.random.default_rng(1))
    assert scaled["optimizer.lr"] in (pytest.approx(0.008), pytest.approx(0.012))
    assert scaled["regularization.dropout"] in (pytest.approx(0.552), 0.7)  # 0.828 clipped
    assert scaled["model.depth"] in (2, 4)
    assert scaled["optimizer"] in ("adam", "sgd")
    for seed in range(20):
        drawn = explore(params, distributions, 1.0, np.random.default_rng(seed))
        assert all(
            distributions[k]._contains(distributions[k].to_internal_repr(v))
            for k, v in drawn.items()
        )


@pytest.mark.parametrize(
    ("value", "dist", "expected"),
    [
        (1.3, FloatDistribution(0.0, 1.0), 1.0),
        (-0.1, FloatDistribution(0.0, 1.0), 0.0),
        (0.26, FloatDistribution(0.0, 1.0, step=0.1), pytest.approx(0.3)),
        (2.6, IntDistribution(1, 4), 3),
        (9.0, IntDistribution(1, 7, step=2), 7),
        (4.2, IntDistribution(1, 7, step=2), 5),
    ],
)
def test_on_grid(value: float, dist: FloatDistribution | IntDistribution, expected: float) -> None:
    assert on_grid(value, dist) == expected


def test_a_decision_is_the_same_for_the_same_seed_member_and_segment() -> None:
    draws = [decision_rng(3, 1, 2).random() for _ in range(2)]
    assert draws[0] == draws[1] != decision_rng(3, 1, 3).random()


def finished(member: int, index: int, value: float, lr: float, job: int, **more) -> Segment:
    start = 5 * index
    segment = Segment(member, index, start, start + 5, {"optimizer.lr": lr}, job, job, **more)
    segment.status, segment.value = "complete", value
    return segment


def test_the_population_continues_exploits_and_keeps_the_winners_lineage() -> None:
    population = Population(PBTSettings(population=3, interval=5, epochs=15), "minimize", 0)
    assert population.ready() == [0, 1, 2]
    population.segments = [
        finished(0, 0, 0.1, 0.01, job=0),
        finished(1, 0, 0.5, 0.3, job=1),
        finished(2, 0, 0.3, 0.02, job=2),
    ]
    assert population.ready() == [0, 1, 2]
    again = population.next_segment(0, {"optimizer.lr": LR})
    assert (again.params, again.source_job, again.exploited_from) == (
        {"optimizer.lr": 0.01},
        0,
        None,
    )
    exploit = population.next_segment(1, {"optimizer.lr": LR})
    assert (exploit.exploited_from, exploit.source_job, exploit.start, exploit.end) == (0, 0, 5, 10)
    assert exploit.params["optimizer.lr"] != 0.3
    # Member 1 went on from member 0's state; its last segment is the best at epoch 15.
    population.segments += [
        finished(1, 1, 0.09, 0.012, job=3, exploited_from=0, source_job=0),
        finished(1, 2, 0.05, 0.012, job=4, source_job=3),
        finished(0, 1, 0.2, 0.01, job=5, source_job=0),
    ]
    population.segments[-1].status = "early_stopped"
    best = population.best()
    assert best is not None and best.job == 4
    assert [s.job for s in population.lineage(best)] == [0, 3, 4]
    assert schedule_of(population.lineage(best)) == [
        {"from_epoch": 1, "to_epoch": 5, "params": {"optimizer.lr": 0.01}},
        {"from_epoch": 6, "to_epoch": 15, "params": {"optimizer.lr": 0.012}},
    ]
    assert population.ready() == [2]  # 0 stopped early, 1 is done


@pytest.mark.parametrize(
    ("pbt", "message"),
    [
        ({"population": 1}, r"pbt.population=1: must be an integer >= 2"),
        ({"interval": 30}, r"pbt.interval=30: must be less than the epochs"),
        ({"quantile": 0.7}, r"pbt.quantile=0.7: must be a number in \(0, 0.5\]"),
        ({"resample_probability": 2}, r"pbt.resample_probability=2"),
        ({"epochs": None}, r"pbt.epochs=None: must be the epochs each member trains"),
    ],
)
def test_bad_pbt_settings(pbt: dict, message: str) -> None:
    good = {"population": 4, "interval": 5, "quantile": 0.25, "resample_probability": 0.25}
    good["epochs"] = 30
    check_settings({"pbt": good})
    with pytest.raises(SettingsError, match=message):
        check_settings({"pbt": {**good, **pbt}})


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"direction": ["minimize", "maximize"]}, "ranks members by one objective"),
        ({"repeats": 3}, "repeats=3 with hydra/sweeper=pbt"),
        ({"pruner": {"_target_": "optuna.pruners.MedianPruner"}}, "takes no pruner"),
    ],
)
def test_pbt_refuses_what_it_does_not_combine_with(more: dict, message: str) -> None:
    pbt = {"population": 4, "interval": 5, "quantile": 0.25, "resample_probability": 0.25}
    with pytest.raises(SettingsError, match=message):
        check_settings({"pbt": {**pbt, "epochs": 30}, **more})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["hydra.sweeper.pbt.population=1"], "pbt.population=1: must be an integer >= 2"),
        (["trainer.epochs=5"], "pbt.interval=5: must be less than the epochs"),
        (["optimizer.lr=0.01"], "hydra/sweeper=pbt has nothing to perturb"),
    ],
)
def test_bad_pbt_input_stops_with_one_line_and_writes_nothing(
    tmp_path: Path, overrides: list[str], message: str
) -> None:
    searched = [] if "optimizer.lr=0.01" in overrides else ["optimizer.lr=interval(1e-4,1)"]
    result = run_train("-m", "hydra/sweeper=pbt", *searched, *overrides, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {result.stderr.split('Error: ')[1].strip()}"
    ]
    assert message in result.stderr
    assert not (tmp_path / "multirun").exists()


# -- sweeps end to end ---------------------------------------------------------------

POPULATION, INTERVAL, EPOCHS = 4, 5, 30


def pbt_sweep(epochs: int = EPOCHS) -> tuple[str, ...]:
    """The issue's command (30 epochs); shorter where a test needs fewer."""
    return (
        "hydra/sweeper=pbt",
        "optimizer.lr=tag(log,interval(1e-5,1))",
        f"hydra.sweeper.pbt.population={POPULATION}",
        f"hydra.sweeper.pbt.interval={INTERVAL}",
        f"trainer.epochs={epochs}",
        "~callbacks.early_stopping",
        "hydra.sweeper.report=false",
    )


def tensorboard_series(run: Path, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(run), size_guidance={"tensors": 0})
    events.Reload()
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]


def assert_population_agrees(sweep: Path, epochs: int = EPOCHS) -> list[dict[str, str]]:
    """results.csv, the study and each member's TensorBoard run tell one story."""
    rows = assert_records_agree(sweep)
    segments = len(boundaries(epochs, INTERVAL))
    assert len(rows) == POPULATION * segments
    assert sum(int(r["epochs"]) for r in rows) == POPULATION * epochs  # no epoch twice
    by_member: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_member[row["member"]].append(row)
    jobs = registered_jobs(sweep)
    with recorded_study(sweep) as study:
        trials = study.trials
    for member, own in by_member.items():
        own.sort(key=lambda r: int(r["segment"]))
        assert [int(r["segment"]) for r in own] == list(range(segments))
        assert [int(r["to_epoch"]) for r in own] == boundaries(epochs, INTERVAL)
        # The member's TensorBoard run: every epoch once, its lr the segment's.
        run = sweep / f"member_{member}"
        assert [step for step, _ in tensorboard_series(run, "val/loss")] == list(
            range(1, epochs + 1)
        )
        lr_by_step = dict(tensorboard_series(run, "pbt/optimizer.lr"))
        for row in own:
            trial = trials[jobs[int(row["number"])]]
            steps = range(int(row["from_epoch"]), int(row["to_epoch"]) + 1)
            assert sorted(trial.intermediate_values) == list(steps)  # the study's curve
            assert trial.params["optimizer.lr"] == float(row["optimizer.lr"])
            record = trial.user_attrs[PBT_ATTR]
            assert (record["member"], record["index"]) == (int(member), int(row["segment"]))
            source = record["exploited_from"]
            assert ("" if source is None else str(source)) == row["exploited_from"]
            lr = float(row["optimizer.lr"])
            assert [lr_by_step[s] for s in steps] == pytest.approx([lr] * len(steps), rel=1e-6)
            values = dict(tensorboard_series(run, "val/loss"))
            assert values[int(row["to_epoch"])] == pytest.approx(float(row["value"]), rel=1e-6)
    return rows


def assert_schedule_replays(sweep: Path, rows: list[dict[str, str]], tmp_path: Path) -> None:
    finals = [r for r in rows if int(r["to_epoch"]) == EPOCHS]
    best = min(finals, key=lambda r: float(r["value"]))
    schedule = yaml.safe_load((sweep / "best_schedule.yaml").read_text())
    assert schedule["member"] == int(best["member"])
    assert schedule["schedule"][0]["from_epoch"] == 1
    assert schedule["schedule"][-1]["to_epoch"] == EPOCHS
    replay = tmp_path / "replay"
    result = run_train(
        "--config-path",
        str(sweep),
        "--config-name",
        "best",
        f"hydra.run.dir={replay}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    replayed = json.loads((replay / "metrics.json").read_text())["value"]
    assert replayed == pytest.approx(float(best["value"]), abs=1e-6)


@pytest.mark.long
def test_pbt_trains_each_member_once_through_its_segments(tmp_path: Path) -> None:
    result = run_train("-m", *pbt_sweep(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = sweep_dir_of(tmp_path)
    rows = assert_population_agrees(sweep)
    assert any(r["exploited_from"] for r in rows)
    lrs: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        lrs[row["member"]].add(row["optimizer.lr"])
    assert any(len(values) > 1 for values in lrs.values())  # a schedule, not a constant
    assert "exploits member" in result.stdout  # the log says each exploit as it happens
    assert_schedule_replays(sweep, rows, tmp_path)
    assert not list(sweep.glob("*/state/last.pt"))  # keep_state=false: states go at the end


@pytest.mark.long
def test_pbt_on_the_joblib_launcher_with_two_workers_one_killed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two workers; one is killed (SIGKILL) once job 4 runs in it: the segments in
    flight are launched again and continue from their saves, and the record is whole."""
    sweep = tmp_path / "sweep"
    workers = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2")
    process = start_train(
        "-m", *pbt_sweep(epochs=15), *workers, f"hydra.sweep.dir={sweep}", cwd=tmp_path
    )
    deadline = time.monotonic() + 240
    while registered_pid(sweep, 4) is None:
        assert time.monotonic() < deadline and process.poll() is None, "job 4 never started"
        time.sleep(0.02)
    os.kill(registered_pid(sweep, 4), signal.SIGKILL)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-3000:]
    assert "launched again, it continues from its last save" in output
    rows = assert_population_agrees(sweep, epochs=15)
    assert any(r["exploited_from"] for r in rows)
    # The report draws the lineage and the members' curves; confirm points to the replay.
    assert hpsweep_cli(["report", str(sweep)]) == 0
    assert (sweep / "population.png").stat().st_size > 10_000
    assert hpsweep_cli(["confirm", str(sweep)]) == 1
    assert "its winner is a schedule" in capsys.readouterr().err


@pytest.mark.long
def test_a_pbt_sweep_cut_by_sigterm_resumes_without_training_an_epoch_twice(
    tmp_path: Path,
) -> None:
    command = [sys.executable, *WARNINGS_AS_ERRORS, str(ROOT / "train.py"), "-m"]
    command += [*pbt_sweep(epochs=20), f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    stop_sweep_after_rows(command, tmp_path, tmp_path / "sweep", rows=6)
    assert 6 <= len(results(tmp_path / "sweep")) < POPULATION * 4
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_population_agrees(tmp_path / "sweep", epochs=20)


def run_example(script: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """An example app's sweep into the folder given last."""
    *overrides, sweep = args
    command = [sys.executable, *WARNINGS_AS_ERRORS, str(script), *map(str, overrides)]
    command.append(f"hydra.sweep.dir={sweep}")
    return subprocess.run(command, cwd=sweep.parent, capture_output=True, text=True, timeout=300)


@pytest.mark.long
def test_any_app_that_saves_its_state_runs_pbt_and_one_that_does_not_is_told(
    tmp_path: Path,
) -> None:
    app = ROOT / "examples" / "hydra_app"
    common = ["-m", "hydra/sweeper=pbt", "hydra.sweeper.pbt.population=3"]
    common += ["hydra.sweeper.pbt.interval=3", "hydra.sweeper.pbt.epochs=9", "steps=9"]
    descent = run_example(
        app / "descent.py", *common, "lr=tag(log,interval(1e-3,1))", tmp_path / "descent"
    )
    assert descent.returncode == 0, descent.stderr[-3000:]
    rows = assert_records_agree(tmp_path / "descent")
    assert len(rows) == 9 and sum(int(r["epochs"]) for r in rows) == 27
    assert (tmp_path / "descent" / "best_schedule.yaml").is_file()
    toy = run_example(app / "app.py", *common, "x=interval(-2,2)", tmp_path / "toy")
    assert toy.returncode == 1
    output = toy.stdout + toy.stderr
    assert "saved no training state" in output and "save_state" in output


def test_pbt_warns_that_early_stopping_ends_members(compose_train) -> None:
    with_it = compose_train("hydra/sweeper=pbt", hydra=True)
    assert "'~callbacks.early_stopping'" in (pbt_warning(with_it) or "")
    assert (
        pbt_warning(compose_train("hydra/sweeper=pbt", "~callbacks.early_stopping", hydra=True))
        is None
    )
    assert pbt_warning(compose_train("hydra/sweeper=tpe", hydra=True)) is None


def test_states_go_once_no_member_can_start_from_them() -> None:
    population = Population(PBTSettings(population=2, interval=5, epochs=15), "minimize", 0)
    population.segments = [finished(0, 0, 0.1, 0.01, job=0), finished(1, 0, 0.2, 0.01, job=1)]
    population.segments.append(finished(0, 1, 0.1, 0.01, job=2, source_job=0))
    # Member 1 is still at epoch 5: it may exploit member 0's state there.
    assert population.states_done_with() == []
    running = Segment(1, 1, 5, 10, {"optimizer.lr": 0.01}, 3, 3, None, 1)
    population.segments.append(running)
    assert population.states_done_with() == []  # it runs from epoch 5's state
    running.status, running.value = "complete", 0.3
    assert [s.job for s in population.states_done_with()] == [0, 1]
    population.segments[2].status = "early_stopped"  # member 0 is done
    assert [s.job for s in population.states_done_with()] == [0, 1]
    population.segments.append(finished(1, 2, 0.2, 0.01, job=4, source_job=3))
    assert [s.job for s in population.states_done_with()] == [0, 1, 2, 3, 4]  # all done


@pytest.mark.parametrize(
    ("epochs", "numbers", "spent"),
    [
        (10, ["0", "2", "1"], 10),  # in the order they ended, not by number
        (9, ["0", "2"], 6),  # the next would pass the budget: reading stops there
        (3, [], 0),
        (11, ["0", "2", "1"], 10),
    ],
)
def test_a_sweep_read_at_a_budget_of_epochs(epochs: int, numbers: list[str], spent: int) -> None:
    rows = [
        {"number": "0", "finished": "2026-12-07T00:00:01", "epochs": "5"},
        {"number": "1", "finished": "2026-12-07T00:00:03", "epochs": "4"},
        {"number": "2", "finished": "2026-12-07T00:00:02", "epochs": "1"},
    ]
    within, used = ended_within(rows, epochs)
    assert ([r["number"] for r in within], used) == (numbers, spent)
