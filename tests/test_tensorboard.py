"""TensorBoard logs read back with TensorBoard's own reader and its own server."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2, metadata
from tensorboard.util import tensor_util

from hpsweep.training import train
from tests.conftest import ComposeTrain, FinishedSweep


def read_run(logdir: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def scalar_series(run: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in run.Tensors(tag)]


def hparams_content(run: EventAccumulator, tag: str) -> bytes:
    return run.SummaryMetadata(tag).plugin_data.content


def test_one_scalar_point_per_epoch_and_one_session(
    compose_train: ComposeTrain, tmp_path: Path
) -> None:
    cfg = compose_train("data=synthetic", "trainer.epochs=4", "~callbacks.early_stopping")
    hparams = {"optimizer": "adam", "optimizer.lr": 0.001}
    metrics = train(cfg, tmp_path, hparams)

    run = read_run(tmp_path)
    for tag in ("train/loss", "val/loss", "val/acc", "lr", "time/epoch_seconds", "best/val/loss"):
        assert [step for step, _ in scalar_series(run, tag)] == [1, 2, 3, 4], tag
    assert scalar_series(run, "val/loss")[-1][1] == pytest.approx(metrics["val/loss"])
    assert scalar_series(run, "lr")[0][1] == pytest.approx(1e-3)

    start = metadata.parse_session_start_info_plugin_data(
        hparams_content(run, metadata.SESSION_START_INFO_TAG)
    )
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
    metrics = train(compose_train("data=synthetic", "trainer.epochs=10", *overrides), tmp_path)
    assert metrics["status"] == status

    run = read_run(tmp_path)
    end = metadata.parse_session_end_info_plugin_data(
        hparams_content(run, metadata.SESSION_END_INFO_TAG)
    )
    assert end.status == session_status
    [text] = run.Tensors("status")
    assert tensor_util.make_ndarray(text.tensor_proto).item().decode().startswith(status)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TensorBoardServer:
    def __init__(self, logdir: Path, log_file: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
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
                    self.url.rsplit(":", 1)[1],
                    "--reload_interval",
                    "1",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

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

    def wait_for_sessions(self, count: int, timeout: float = 90) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tensorboard exited: {self.log_file.read_text()}")
            try:
                groups = self.session_groups()
                if len(groups) >= count:
                    return groups
            except OSError:
                pass  # not listening yet
            time.sleep(0.5)
        raise TimeoutError(f"tensorboard at {self.url} did not show {count} sessions")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def tensorboard(grid_sweep: FinishedSweep) -> Iterator[TensorBoardServer]:
    sweep = grid_sweep.path
    server = TensorBoardServer(sweep, sweep.parent / "tensorboard.log")
    yield server
    server.stop()


@pytest.mark.xdist_group("grid")
def test_tensorboard_server_lists_every_trial_of_a_sweep(tensorboard: TensorBoardServer) -> None:
    groups = tensorboard.wait_for_sessions(6)
    assert len(groups) == 6

    experiment = tensorboard.post("/data/plugin/hparams/experiment", {"experimentName": ""})
    infos = {info["name"]: info for info in experiment["hparamInfos"]}
    assert sorted(infos["optimizer.lr"]["domainDiscrete"]) == [0.01, 0.1, 1e12]
    assert sorted(infos["regularization"]["domainDiscrete"]) == ["dropout", "none"]
    assert sorted(infos["regularization.dropout"]["domainDiscrete"]) == [0.0, 0.2]
    metric_tags = {m["name"]["tag"] for m in experiment["metricInfos"]}
    assert {"val/loss", "best/val/loss", "val/acc"} <= metric_tags

    rows = {
        (g["hparams"]["optimizer.lr"], g["hparams"]["regularization.dropout"]): g for g in groups
    }
    assert set(rows) == {(lr, d) for lr in (0.01, 0.1, 1e12) for d in (0.0, 0.2)}
    for (lr, _), group in rows.items():
        assert group["hparams"]["optimizer"] == "sgd"
        [session] = group["sessions"]
        values = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        if lr == 1e12:
            assert session["status"] == "STATUS_FAILURE"
            assert math.isnan(float(values["val/loss"]))  # JSON carries NaN as "NaN"
        else:
            assert session["status"] == "STATUS_SUCCESS"
            assert 0 < values["val/loss"] < math.log(4)
            assert values["best/val/loss"] <= values["val/loss"]
