"""TensorBoard logs read back with TensorBoard's own reader and its own server."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2, metadata
from tensorboard.plugins.scalar.summary_v2 import scalar_pb
from tensorboard.util import tensor_util

from hpsweep.sweep.outcome import RunStatus
from hpsweep.tensorboard.events import scalar_value
from hpsweep.training import train
from hpsweep.training.callbacks import RunState, TrainingCallback
from tests.conftest import ComposeTrain, FinishedSweep
from tests.sweep_files import SESSION_STATUS, results


def read_run(logdir: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def scalar_series(run: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in run.Tensors(tag)]


def hparams_content(run: EventAccumulator, tag: str) -> bytes:
    return run.SummaryMetadata(tag).plugin_data.content


@pytest.mark.parametrize("number", [0.123, 7, 1e-30, float("nan"), -float("inf")])
def test_a_described_scalar_is_scalar_pb_without_its_metadata(number: float) -> None:
    first = scalar_pb("val/loss", number).value[0]
    assert scalar_value("val/loss", number, described=False) == first
    first.ClearField("metadata")
    later = scalar_value("val/loss", number, described=True)
    assert later.SerializeToString() == first.SerializeToString()


def test_one_scalar_point_per_epoch_and_one_session(
    compose_train: ComposeTrain, tmp_path: Path
) -> None:
    cfg = compose_train("data=synthetic", "trainer.epochs=4", "~callbacks.early_stopping")
    hparams = {"optimizer": "adam", "optimizer.lr": 0.001}
    metrics = train(cfg, tmp_path, hparams).to_json()

    run = read_run(tmp_path)
    for tag in ("train/loss", "val/loss", "val/acc", "lr", "time/epoch_seconds", "best/val/loss"):
        assert [step for step, _ in scalar_series(run, tag)] == [1, 2, 3, 4], tag
    assert scalar_series(run, "val/loss")[-1][1] == pytest.approx(metrics["val/loss"])
    assert scalar_series(run, "lr")[0][1] == pytest.approx(1e-3)
    # the metadata rides on each tag's first value only, as with TensorBoard's writers
    assert run.SummaryMetadata("val/loss").plugin_data.plugin_name == "scalars"

    # the final model's values, as train() returns them (and metrics.json holds them)
    assert scalar_series(run, "final/val/loss") == [(4, pytest.approx(metrics["val/loss"]))]
    assert scalar_series(run, "final/test/acc") == [(4, pytest.approx(metrics["test/acc"]))]

    start = metadata.parse_session_start_info_plugin_data(
        hparams_content(run, metadata.SESSION_START_INFO_TAG)
    )
    assert start.hparams["status"].string_value == "complete"
    assert start.hparams["optimizer"].string_value == "adam"
    assert start.hparams["optimizer.lr"].number_value == pytest.approx(1e-3)
    end = metadata.parse_session_end_info_plugin_data(
        hparams_content(run, metadata.SESSION_END_INFO_TAG)
    )
    assert end.status == api_pb2.STATUS_SUCCESS


@pytest.mark.parametrize(
    ("overrides", "status", "session_status"),
    [
        (["optimizer=sgd", "optimizer.lr=1e12"], "diverged", api_pb2.STATUS_FAILURE),
        (
            ["optimizer.lr=1e-7", "callbacks.early_stopping.min_delta=0.01"],
            "early_stopped",
            api_pb2.STATUS_SUCCESS,
        ),
    ],
    ids=["diverged", "early_stopped"],
)
def test_session_status_matches_the_stop_reason(
    overrides: list[str],
    status: str,
    session_status: int,
    compose_train: ComposeTrain,
    tmp_path: Path,
) -> None:
    metrics = train(
        compose_train("data=synthetic", "trainer.epochs=10", *overrides), tmp_path
    ).to_json()
    assert metrics["status"] == status

    run = read_run(tmp_path)
    end = metadata.parse_session_end_info_plugin_data(
        hparams_content(run, metadata.SESSION_END_INFO_TAG)
    )
    assert end.status == session_status
    start = metadata.parse_session_start_info_plugin_data(
        hparams_content(run, metadata.SESSION_START_INFO_TAG)
    )
    assert start.hparams["status"].string_value == status
    [text] = run.Tensors("status")
    assert tensor_util.make_ndarray(text.tensor_proto).item().decode().startswith(status)


class WatchWhileRunning(TrainingCallback):
    """At one epoch, pauses training and reads the run as TensorBoard would meanwhile."""

    def __init__(self, at_epoch: int) -> None:
        self.at_epoch = at_epoch
        self.seen: dict[str, object] = {}

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        if run.epoch != self.at_epoch:
            return
        # An epoch's scalars are written once the state that covers it is saved (so a
        # resumed run never writes a step twice): the first epoch's at once, this
        # epoch's after its callbacks. Then they reach the disk on the writer's timer.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if len(scalar_series(read_run(run.output_dir), "val/loss")) == run.epoch - 1:
                break
            time.sleep(0.1)
        job = read_run(run.output_dir)
        self.seen["val/loss points"] = len(scalar_series(job, "val/loss"))
        self.seen["job has a session"] = metadata.SESSION_START_INFO_TAG in job.summary_metadata
        provisional = read_run(run.output_dir / "running")
        start = metadata.parse_session_start_info_plugin_data(
            hparams_content(provisional, metadata.SESSION_START_INFO_TAG)
        )
        self.seen["status"] = start.hparams["status"].string_value
        self.seen["group"] = start.group_name
        self.seen["ended"] = metadata.SESSION_END_INFO_TAG in provisional.summary_metadata


def test_a_running_trial_shows_within_seconds_as_running(
    compose_train: ComposeTrain, tmp_path: Path
) -> None:
    cfg = compose_train(
        "data=synthetic", "trainer.epochs=4", "callbacks.tensorboard.flush_secs=0.5"
    )
    watch = WatchWhileRunning(at_epoch=2)
    metrics = train(cfg, tmp_path / "07", {"optimizer": "adam"}, extra_callbacks=[watch]).to_json()

    assert watch.seen == {
        "val/loss points": 1,  # epoch 1's, saved; epoch 2's waits for its state
        "job has a session": False,  # its session, with the final word, comes at the end
        "status": "running",
        "group": "07",
        "ended": False,
    }
    # At the end the provisional run is gone and the job's own session has the word.
    assert not (tmp_path / "07" / "running").exists()
    start = metadata.parse_session_start_info_plugin_data(
        hparams_content(read_run(tmp_path / "07"), metadata.SESSION_START_INFO_TAG)
    )
    assert start.hparams["status"].string_value == metrics["status"]
    assert start.group_name == "07"


class TensorBoardServer:
    """A real TensorBoard server on a port the OS picks, read back from its banner."""

    def __init__(self, logdir: Path, log_file: Path, timeout: float = 60) -> None:
        self.log_file = log_file
        with log_file.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tensorboard.main",
                    "--logdir",
                    str(logdir),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",  # bound by the server itself: no race for a port chosen beforehand
                    "--reload_interval",
                    "1",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self.url = self.wait_for_banner(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_for_banner(self, timeout: float) -> str:
        """'TensorBoard 2.x at http://127.0.0.1:PORT/ (Press CTRL+C to quit)' -> the URL."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(
                r"TensorBoard \S+ at (http://\S+?)/? \(Press", self.log_file.read_text()
            )
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise RuntimeError(f"tensorboard exited: {self.log_file.read_text()}")
            time.sleep(0.1)
        raise TimeoutError(f"tensorboard did not start in {timeout} s: {self.log_file.read_text()}")

    def get(self, path: str) -> object:
        # Listening once the banner is out: any error (HTTP or connection) fails at once.
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def session_groups(self) -> list[dict]:
        body = {
            "experimentName": "",
            "allowedStatuses": [
                "STATUS_UNKNOWN",
                "STATUS_SUCCESS",
                "STATUS_FAILURE",
                "STATUS_RUNNING",
            ],
            "colParams": [],
            "startIndex": 0,
            "sliceSize": 100,
        }
        return self.post("/data/plugin/hparams/session_groups", body).get("sessionGroups", [])

    def wait_for_sessions(self, count: int, timeout: float = 60) -> list[dict]:
        """Until `count` ended sessions are listed (the server reloads every second)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            groups = self.session_groups()
            ended = [g for g in groups if all(s.get("endTimeSecs") for s in g["sessions"])]
            if len(ended) >= count:
                return groups
            time.sleep(0.5)
        raise TimeoutError(f"tensorboard at {self.url} did not show {count} ended sessions")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


# The tests below read conftest's 12-trial grid (trained, early-stopped and diverged
# trials) and run on the xdist worker that ran it (their `grid` group mark).
@pytest.fixture(scope="module")
def tensorboard(grid_sweep: FinishedSweep) -> Iterator[TensorBoardServer]:
    sweep_dir = grid_sweep.path
    server = TensorBoardServer(sweep_dir, sweep_dir.parent / "tensorboard.log")
    yield server
    server.stop()


@pytest.mark.xdist_group("grid")
def test_job_folders_sort_in_trial_order(grid_sweep: FinishedSweep) -> None:
    rows = sorted(results(grid_sweep.path), key=lambda r: int(r["number"]))
    folders = [Path(r["job_dir"]).name for r in rows]
    assert folders == [f"{n:02d}" for n in range(12)]
    assert sorted(folders) == folders
    statuses = {r["status"] for r in rows}
    assert {"diverged", "early_stopped"} <= statuses, statuses  # a diverged trial did not stop it
    assert statuses <= {"complete", "early_stopped", "diverged"}


@pytest.mark.xdist_group("grid")
def test_tensorboard_lists_the_trials_in_order_and_no_other_run(
    tensorboard: TensorBoardServer,
) -> None:
    groups = tensorboard.wait_for_sessions(12)
    assert [g["name"] for g in groups] == [f"{n:02d}" for n in range(12)]
    # Every trial is one run; no '.' run for the experiment, no provisional runs left.
    runs = tensorboard.get("/data/runs")
    assert sorted(runs) == [f"{n:02d}" for n in range(12)]

    experiment = tensorboard.post("/data/plugin/hparams/experiment", {"experimentName": ""})
    infos = {info["name"]: info for info in experiment["hparamInfos"]}
    assert sorted(infos["optimizer.lr"]["domainDiscrete"]) == [1e-7, 0.03, 0.1, 0.3, 1e12, 1e13]
    assert sorted(infos["regularization"]["domainDiscrete"]) == ["dropout", "none"]
    assert sorted(infos["regularization.dropout"]["domainDiscrete"]) == [0.0, 0.2]
    assert sorted(infos["status"]["domainDiscrete"]) == sorted(
        ["running", "complete", "early_stopped", "diverged", "pruned", "failed"]
    )
    metrics = [(m["name"]["tag"], m.get("displayName")) for m in experiment["metricInfos"]]
    assert metrics[0] == ("final/val/loss", "val/loss")  # the objective, first
    assert ("val/loss", "val/loss (last epoch)") in metrics


@pytest.mark.xdist_group("grid")
def test_hparams_table_shows_the_status_word_and_the_final_values(
    tensorboard: TensorBoardServer, grid_sweep: FinishedSweep
) -> None:
    groups = {g["name"]: g for g in tensorboard.wait_for_sessions(12)}
    for row in results(grid_sweep.path):
        group = groups[Path(row["job_dir"]).name]
        [session] = group["sessions"]
        assert group["hparams"]["status"] == row["status"]
        assert (
            session["status"]
            == {1: "STATUS_SUCCESS", 2: "STATUS_FAILURE"}[SESSION_STATUS[row["status"]]]
        )
        values = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        last_epoch = scalar_series(read_run(Path(row["job_dir"])), "val/loss")[-1][1]
        if RunStatus(row["status"]).has_value:
            # The column is the run's result: results.csv's value (float32 in TensorBoard).
            assert values["final/val/loss"] == pytest.approx(float(row["value"]), rel=1e-6)
            assert values["val/loss"] == pytest.approx(last_epoch, rel=1e-6)
            assert values["best/val/loss"] <= values["val/loss"]
        else:
            assert row["value"] == ""
            assert math.isnan(float(values["val/loss"]))  # JSON carries NaN as "NaN"
