"""Reading a sweep: `hpsweep report`, its plots and report.html (in a real browser), the
live progress line (in a real terminal), and optuna-dashboard (the real server).

One Hyperband sweep, run once for the module in a pseudo-terminal, is read by most
tests: it prunes, so it shows how pruned trials are reported.
"""

from __future__ import annotations

import logging
import re
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from omegaconf import OmegaConf

from hpsweep.report import load_sweep
from hpsweep.report.end_of_sweep import start_report
from hpsweep.report.loading import STOCK_OPTUNA_SWEEPER, Sweep, Trial, log_scaled, spans_decades
from hpsweep.report.parallel import axis_of
from hpsweep.report.plots import (
    draw_history,
    draw_learning_curves,
    draw_objective_vs_params,
    draw_parallel_coordinates,
    draw_timeline,
    importance_note,
    learning_curve,
)
from hpsweep.report.summary import disk_line, human_bytes
from hpsweep.sweep.channel import load_recorded_study, read_channel
from hpsweep.sweep.results import ranked_rows
from hpsweep.sweep.settings import SWEEPER_TARGET
from tests.browser import rendered_dom
from tests.conftest import TRAIN_PY, WARNINGS_AS_ERRORS
from tests.dashboard import dashboard, get_json
from tests.sweep_files import assert_records_agree, results, sweep_dir_of
from tests.terminal import run_in_terminal
from tests.test_cli import run_train

HYPERBAND = [
    "hydra/sweeper=hyperband",
    "optimizer.lr=tag(log,interval(1e-5,1))",
    "model.width=32,64",
    "hydra.sweeper.n_trials=8",
    "trainer.epochs=9",
    "data=synthetic",
]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header: the file is a real image, not a stub."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def report(sweep: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    hpsweep = Path(sys.executable).with_name("hpsweep")
    return subprocess.run(
        [str(hpsweep), "report", str(sweep), *flags], capture_output=True, text=True, timeout=300
    )


def report_here(
    sweep: Path, capfd: pytest.CaptureFixture[str], *flags: str
) -> subprocess.CompletedProcess[str]:
    """`hpsweep report` in the test's process: what `report` runs as a user would (this
    module's tests), without another interpreter's start for tests of other things."""
    from hpsweep.report.cli import main

    capfd.readouterr()  # only what the report prints
    code = main(["report", str(sweep), *flags])
    out, err = capfd.readouterr()
    return subprocess.CompletedProcess(["hpsweep", "report", str(sweep), *flags], code, out, err)


def wait_for_page(sweep: Path, deadline_s: float = 180) -> Path:
    """report.html, which the background report writes last (after its PNGs)."""
    page = sweep / "report.html"
    deadline = time.monotonic() + deadline_s
    while not page.is_file():
        assert time.monotonic() < deadline, f"no report.html after {deadline_s} s: " + (
            (sweep / "report.log").read_text() if (sweep / "report.log").is_file() else ""
        )
        time.sleep(0.1)
    return page


@dataclass(frozen=True)
class Swept:
    path: Path
    terminal: str  # what the sweep's terminal showed


@pytest.fixture(scope="module")
def hyperband(tmp_path_factory: pytest.TempPathFactory) -> Swept:
    cwd = tmp_path_factory.mktemp("hyperband")
    code, shown = run_in_terminal(
        [sys.executable, *WARNINGS_AS_ERRORS, str(TRAIN_PY), "-m", *HYPERBAND], cwd
    )
    assert code == 0, shown[-3000:]
    sweep = sweep_dir_of(cwd)
    wait_for_page(sweep)
    return Swept(sweep, shown)


@pytest.mark.long
@pytest.mark.xdist_group("report-hyperband")
def test_the_records_agree_and_trials_were_pruned(hyperband: Swept) -> None:
    rows = assert_records_agree(hyperband.path)
    assert {"complete", "pruned"} <= {r["status"] for r in rows}


@pytest.mark.xdist_group("report-hyperband")
def test_a_live_progress_line_in_a_terminal(hyperband: Swept) -> None:
    # tqdm writes the rate as s/trial, or as trial/s when trials take under a second
    rate = r"[\d.]+(?:s/trial|trial/s)"
    bar = rf"sweep: +\d+%\|[^|]*\| (\d+)/8 \[(\S+)<(\S+), +{rate}, (best [^\]]*)\]"
    bars = re.findall(bar, hyperband.terminal)
    assert bars, hyperband.terminal[hyperband.terminal.rfind("sweep:") - 500 :][:1500]
    assert [int(done) for done, *_ in bars][-1] == 8
    _, elapsed, left, tail = bars[-1]
    assert re.fullmatch(r"\d\d:\d\d", elapsed) and left == "00:00"
    assert re.match(r"best [\d.]+ \(trial \d+\) · (\d+ \w+, )*\d+ pruned", tail), tail
    assert "[8/8] best" not in hyperband.terminal  # the plain line is for logs, not TTYs
    # The trials' log lines are written above the bar (tqdm clears its line first).
    assert re.search(r"\r {20,}\r\[[\d-]+ [\d:,]+\]\[HYDRA\] Launching", hyperband.terminal)


@pytest.mark.xdist_group("report-hyperband")
def test_no_tensorboard_noise_and_the_report_announced(hyperband: Swept) -> None:
    log = (hyperband.path / "report.log").read_text()
    assert "No path found" not in hyperband.terminal + log
    assert f"report: drawing in the background into {hyperband.path / 'report.html'}" in (
        hyperband.terminal
    )
    assert "wrote " in log and "Traceback" not in log


@pytest.mark.xdist_group("report-hyperband")
def test_reading_tensorboard_logs_is_quiet_under_hydras_root_logger(
    hyperband: Swept, caplog: pytest.LogCaptureFixture
) -> None:
    """Hydra configures the root logger at INFO; TensorBoard's reader logs through it."""
    trial = load_sweep(hyperband.path).trials[0]
    with caplog.at_level(logging.INFO):
        assert learning_curve(trial, "val/loss")
    assert not [r for r in caplog.records if "No path found" in r.getMessage()]


def significant_digits(number: str) -> int:
    """Digits of a printed number from its first nonzero one: 0.006431 -> 4."""
    mantissa = number.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mantissa)


@pytest.mark.xdist_group("report-hyperband")
def test_shown_numbers_are_rounded_and_the_records_keep_every_digit(
    hyperband: Swept, capfd: pytest.CaptureFixture[str]
) -> None:
    lrs = [r["optimizer.lr"] for r in results(hyperband.path)]
    assert max(map(significant_digits, lrs)) > 6  # results.csv: the sampled value, whole
    summary = hyperband.terminal.rsplit("trials (", 1)[1].split("Re-run it with", 1)[0]
    shown = report_here(hyperband.path, capfd, "--top", "20", "--no-plots").stdout
    for text in (summary, shown):
        numbers = re.findall(r"\d*\.\d+(?:e[-+]?\d+)?", text)
        assert numbers and max(map(significant_digits, numbers)) <= 6, text
    # report.html: a parameter's cell shows 4 digits and sorts by the whole value.
    cells = re.findall(
        r'<td data-sort="([^"]+)">([^<]+)</td>', (hyperband.path / "report.html").read_text()
    )
    lr_cells = [(key, text) for key, text in cells if key in lrs]
    assert lr_cells and all(significant_digits(text) <= 4 for _, text in lr_cells)


def top_of(text: str) -> list[int]:
    """Trial numbers of a summary's ranked table (rank, number, ... columns)."""
    table = text.split(" by val/loss (min):", 1)[1].splitlines()[2:]
    return [int(line.split()[1]) for line in table if re.match(r"\s*\d+\s+\d+\s", line)]


@pytest.mark.xdist_group("report-hyperband")
def test_one_ranking_in_the_summary_best_yaml_and_the_report(hyperband: Swept) -> None:
    rows = results(hyperband.path)
    ranked = [int(r["number"]) for r in ranked_rows(rows, "min")]
    pruned = sorted(int(r["number"]) for r in rows if r["status"] == "pruned")
    assert ranked and pruned and not set(ranked) & set(pruned)

    end_of_sweep = hyperband.terminal.rsplit("trials (", 1)[1]
    assert top_of(end_of_sweep) == ranked[:5]
    shown = report(hyperband.path, "--top", "20", "--no-plots")
    assert shown.returncode == 0, shown.stderr
    assert top_of(shown.stdout) == ranked
    for text in (end_of_sweep, shown.stdout):
        assert f"pruned (not ranked): trials {', '.join(map(str, pruned))} " in text

    best_job = Path(next(r["job_dir"] for r in rows if int(r["number"]) == ranked[0]))
    best = yaml.safe_load((hyperband.path / "best.yaml").read_text())
    assert best == yaml.safe_load((best_job / ".hydra" / "config.yaml").read_text())

    dom = rendered_dom(hyperband.path / "report.html")
    order = [int(n) for n in re.findall(r'<tr class="[^"]*" data-number="(\d+)"', dom)]
    assert order[: len(ranked)] == ranked
    assert order[len(ranked) : len(ranked) + len(pruned)] == pruned


@pytest.mark.xdist_group("report-hyperband")
def test_report_html_in_a_browser_shows_every_trial_and_sorts(hyperband: Swept) -> None:
    page = hyperband.path / "report.html"
    rows = results(hyperband.path)
    dom = rendered_dom(page, "#sort=-epochs")
    shown = re.findall(r'<tr class="(\w+)[^"]*" data-number="(\d+)">(.*?)</tr>', dom)
    assert sorted(int(n) for _, n, _ in shown) == sorted(int(r["number"]) for r in rows)
    assert {n: s for s, n, _ in shown} == {r["number"]: r["status"] for r in rows}
    epochs_column = 4
    epochs = [int(re.findall(r"<td[^>]*>(.*?)</td>", cells)[epochs_column]) for *_, cells in shown]
    assert epochs == sorted(epochs, reverse=True)  # the script sorted by the fragment
    assert 'aria-sort="descending"' in dom
    # Self-contained: every image is embedded, nothing is fetched.
    images = re.findall(r'<img alt="([\w_]+)" src="([^"]{0,30})', dom)
    assert {name for name, _ in images} == {p.stem for p in hyperband.path.glob("*.png")}
    assert all(src.startswith("data:image/png;base64,") for _, src in images)
    assert not re.search(r'(src|href)="(https?|file):', page.read_text())
    best = ranked_rows(rows, "min")[0]
    overrides = yaml.safe_load((Path(best["job_dir"]) / ".hydra" / "overrides.yaml").read_text())
    assert f"python train.py {' '.join(overrides)}" in dom


def trial_lines(axis) -> tuple[list, list]:
    """The (solid, dashed) trial lines of a parallel-coordinates axis: each a list of
    (x, height) points."""
    drawn = {"solid": [], "dashed": []}
    for collection in axis.collections:
        if isinstance(collection, LineCollection):
            style = "dashed" if collection.get_linestyle()[0][1] is not None else "solid"
            drawn[style].extend(s.tolist() for s in collection.get_segments())
    return drawn["solid"], drawn["dashed"]


def points_of(axis) -> int:
    return sum(len(c.get_offsets()) for c in axis.collections if isinstance(c, PathCollection))


@pytest.mark.xdist_group("report-hyperband")
def test_every_trial_with_a_value_is_in_every_plot_on_its_scale(hyperband: Swept) -> None:
    sweep = load_sweep(hyperband.path)
    with_value = [t for t in sweep.trials if t.has_value]
    assert sweep.log_scaled == {"optimizer.lr"}  # tag(log, ...); model.width is 32,64

    figure = Figure()
    draw_history(sweep, figure)
    values = [t.value for t in with_value]
    for axis in figure.axes:
        assert points_of(axis) == len(with_value)
        assert axis.get_yscale() == ("log" if max(values) / min(values) >= 10 else "linear")
    assert "pruned (last value)" in [t.get_text() for t in figure.axes[0].get_legend().get_texts()]

    figure = Figure()
    draw_objective_vs_params(sweep, figure, sweep.params)
    lr_axis, width_axis = figure.axes
    assert (lr_axis.get_xscale(), width_axis.get_xscale()) == ("log", "linear")
    assert points_of(lr_axis) == points_of(width_axis) == len(with_value)

    figure = Figure()
    draw_parallel_coordinates(sweep, figure, sweep.params)
    solid, dashed = trial_lines(figure.axes[0])
    assert len(solid) + len(dashed) == len(with_value)
    assert len(dashed) == len(sweep.pruned())
    assert figure.axes[0].get_facecolor()[:3] == (1.0, 1.0, 1.0)
    # A big sweep draws its best lines only, and says so.
    figure = Figure()
    draw_parallel_coordinates(sweep, figure, sweep.params, most=3)
    solid, dashed = trial_lines(figure.axes[0])
    best = sorted(t.value for t in with_value)[:3]  # val/loss: the lowest
    assert len(solid + dashed) == 3
    assert figure.axes[-1].get_ylim() == pytest.approx((best[0], best[-1]))  # the colour bar
    assert f"the best 3 of {len(with_value)} trials" in figure.axes[0].get_title()

    figure = Figure()
    timed = [t for t in sweep.trials if t.started_at and t.ended_at]
    draw_timeline(timed, figure)
    bars = [bar for c in figure.axes[0].collections for bar in c.get_paths()]
    assert len(bars) == len(timed)
    origin = min(t.started_at for t in timed)
    longest = max((t.ended_at - origin).total_seconds() for t in timed)
    assert max(bar.vertices[:, 0].max() for bar in bars) == pytest.approx(longest)

    curves = {t.number: learning_curve(t, sweep.metric) for t in with_value}
    figure = Figure()
    draw_learning_curves(sweep, figure, curves)
    drawn = [line for line in figure.axes[0].lines if len(line.get_xdata())]
    assert len(drawn) == len(with_value)
    figure.canvas.draw()
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels() if t.get_text()]
    assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), ticks  # whole epochs

    assert importance_note(sweep) is None
    assert (hyperband.path / "importances.png").is_file()


@pytest.mark.xdist_group("report-hyperband")
def test_the_report_costs_the_sweep_under_half_a_second(hyperband: Swept) -> None:
    # What the sweep's end pays for its report (the hpsweep sweeper's recorder and the
    # callback of the other sweepers both call start_report): starting a detached drawer.
    page = hyperband.path / "report.html"
    before = page.stat().st_mtime_ns
    started = time.perf_counter()
    pid = start_report(hyperband.path)
    returned = time.perf_counter() - started
    assert pid is not None
    deadline = time.monotonic() + 180
    while f"wrote {page}" not in (hyperband.path / "report.log").read_text():
        assert time.monotonic() < deadline, (hyperband.path / "report.log").read_text()
        time.sleep(0.1)
    assert returned <= 0.5, returned
    assert page.stat().st_mtime_ns > before  # the detached process redrew the report


@pytest.mark.xdist_group("report-hyperband")
def test_optuna_dashboard_lists_the_study_and_its_trials(hyperband: Swept) -> None:
    channel = read_channel(hyperband.path)
    study = load_recorded_study(hyperband.path)
    with dashboard(channel["storage"]) as url:
        studies = get_json(f"{url}/api/studies")["study_summaries"]
        [listed] = [s for s in studies if s["study_name"] == channel["study_name"]]
        detail = get_json(f"{url}/api/studies/{listed['study_id']}")
    shown = {t["number"]: t["state"] for t in detail["trials"]}
    assert shown == {t.number: t.state.name.capitalize() for t in study.trials}
    assert {"Complete", "Pruned"} <= set(shown.values())


def test_report_of_a_grid_of_one_parameter(tmp_path: Path) -> None:
    """Hydra's basic sweeper: no study, no spec of scale (a list), one parameter."""
    args = ["-m", "hydra/sweeper=grid", "optimizer.lr=0.001,0.01,0.1", "trainer.epochs=3"]
    result = run_train(*args, "data=synthetic", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sweep_dir = sweep_dir_of(tmp_path)
    assert_records_agree(sweep_dir)
    wait_for_page(sweep_dir)
    sweep = load_sweep(sweep_dir)
    assert sweep.log_scaled == {"optimizer.lr"}  # a list spanning two decades
    note = importance_note(sweep)
    assert note is not None and "varied 1 (optimizer.lr)" in note
    assert note in (sweep_dir / "report.html").read_text()
    assert not (sweep_dir / "importances.png").exists()
    assert {p.name for p in sweep_dir.glob("*.png")} == {
        "history.png",
        "objective_vs_params.png",
        "parallel_coordinates.png",
        "learning_curves.png",
        "timeline.png",
    }


def test_a_folder_that_is_not_a_sweep(tmp_path: Path) -> None:
    shown = report(tmp_path)
    assert shown.returncode == 1
    assert shown.stderr.strip() == f"Error: {tmp_path} is not a sweep folder: it has no results.csv"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1e-4, 1e-2], True),
        ([0.001, 0.01, 0.1], True),
        ([1e-3, 9e-2], False),
        ([32.0, 64.0], False),
        ([0.0, 1.0], False),
        ([-1.0, 100.0], False),
        ([], False),
    ],
    ids=str,
)
def test_values_spanning_two_decades_get_a_log_axis(values: list[float], expected: bool) -> None:
    assert spans_decades(values) is expected


@pytest.mark.parametrize(
    ("values", "log", "value", "height"),
    [
        (["1e-4", "1e-3", "1e-2"], True, "1e-3", 0.5),
        (["1e-4", "1e-3", "1e-2"], False, "1e-2", 1.0),
        (["0.0", "2.0", "4.0"], False, "1.0", 0.25),
        (["adam", "sgd", "rmsprop"], False, "rmsprop", 0.5),
        (["adam", "sgd"], False, "sgd", 1.0),
        (["3.0", "3.0"], False, "3.0", 0.0),
    ],
    ids=str,
)
def test_parallel_coordinate_axes(values: list[str], log: bool, value: str, height: float) -> None:
    axis = axis_of(values, log)
    assert axis.position(value) == pytest.approx(height)
    assert all(0 <= h <= 1 for h, _ in axis.ticks)


def test_a_sweep_without_values_has_no_plots_but_a_page(tmp_path: Path) -> None:
    (tmp_path / "results.csv").write_text(
        "number,status,value,epochs,seconds,started,finished,job_dir,optimizer.lr,reason\n"
        "0,failed,,,,,,,0.1,RuntimeError: boom\n"
    )
    shown = report(tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "no finished trial yet" in shown.stdout
    page = (tmp_path / "report.html").read_text()
    assert "RuntimeError: boom" in page and "<img" not in page


def test_the_report_ranks_as_results_ranked_rows() -> None:
    rows = [
        {"number": "0", "status": "complete", "value": "0.5"},
        {"number": "1", "status": "pruned", "value": "0.1"},
        {"number": "2", "status": "early_stopped", "value": "0.3"},
        {"number": "3", "status": "failed", "value": ""},
        {"number": "4", "status": "diverged", "value": ""},
    ]
    trials = [
        Trial(int(r["number"]), r["status"], float(r["value"] or "nan"), 1, 1.0, None, {})
        for r in rows
    ]
    sweep = Sweep(Path("."), trials, [], "min", "val/loss", None, rows=tuple(rows))
    assert [t.number for t in sweep.ranked()] == [
        int(r["number"]) for r in ranked_rows(rows, "min")
    ]
    assert [t.number for t in sweep.ranked()] == [2, 0]  # pruned 0.1 does not rank
    assert [t.number for t in sweep.pruned()] == [1]
    assert [t.has_value for t in trials] == [True, True, True, False, False]


HPSWEEP_SWEEPER = SWEEPER_TARGET
# The report's log axes follow the sweeper's scale rule (hpsweep.sweep.spec.log_scale):
# hpsweep's for its sweepers, Hydra's (tagged log only) for the stock optuna sweeper.
LOG_AXES = [
    (HPSWEEP_SWEEPER, "interval(1e-4,1e-1)", True),
    (HPSWEEP_SWEEPER, "tag(linear,interval(1e-4,1e-1))", False),
    (HPSWEEP_SWEEPER, "interval(0,0.7)", False),
    (HPSWEEP_SWEEPER, "tag(log,interval(0.1,0.5))", True),
    (STOCK_OPTUNA_SWEEPER, "interval(1e-4,1e-1)", False),
    (STOCK_OPTUNA_SWEEPER, "tag(log,interval(1e-4,1e-1))", True),
]


@pytest.mark.parametrize(("sweeper", "interval", "log"), LOG_AXES)
def test_log_axes_follow_the_sweepers_scale_rule(sweeper: str, interval: str, log: bool) -> None:
    config = OmegaConf.create(
        {
            "hydra": {
                "overrides": {"task": [f"optimizer.lr={interval}"]},
                "runtime": {"choices": {"optimizer": "adam"}},
                "sweeper": {"_target_": sweeper},
            }
        }
    )
    trials = [
        Trial(n, "complete", 0.5, 1, 1.0, None, {"optimizer.lr": str(v)})
        for n, v in enumerate([0.2, 0.3])  # the values alone would say linear
    ]
    assert log_scaled(config, ["optimizer.lr"], trials) == ({"optimizer.lr"} if log else set())


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1536, "1.5 kB"),
        (14_200_000, "14.2 MB"),
        (3 * 10**9, "3.0 GB"),
        (5 * 10**12, "5000.0 GB"),
    ],
)
def test_sizes_read_as_du_si_shows_them(size: int, shown: str) -> None:
    assert human_bytes(size) == shown


def test_the_disk_line_counts_the_folder_and_its_saved_states_apart(tmp_path: Path) -> None:
    (tmp_path / "00" / "state").mkdir(parents=True)
    (tmp_path / "00" / "state" / "last.pt").write_bytes(b"x" * 1500)
    (tmp_path / "00" / "best.pt").write_bytes(b"x" * 2000)
    (tmp_path / "results.csv").write_bytes(b"x" * 500)
    assert disk_line(tmp_path) == "on disk: 4.0 kB (saved training states: 1.5 kB)"
