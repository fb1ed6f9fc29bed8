"""train.py end to end, in subprocesses, as a user types it.

Each command runs with the test's tmp_path as working directory, so Hydra's
outputs/ and multirun/ land there and "no folder was created" can be checked.
Python runs with -W error, as Hydra's own run_python_script does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import TRAIN_PY
from tests.data_files import write_blobs_csv


def run_train(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [sys.executable, "-W", "error", str(TRAIN_PY), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def job_dirs(root: Path) -> list[Path]:
    """Folders of finished jobs (those with a metrics.json) under root."""
    return sorted(path.parent for path in root.rglob("metrics.json"))


def overrides_of(job_dir: Path) -> list[str]:
    return yaml.safe_load((job_dir / ".hydra" / "overrides.yaml").read_text())


def test_single_run_with_defaults(tmp_path: Path) -> None:
    result = run_train("trainer.epochs=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    [job] = job_dirs(tmp_path / "outputs")
    metrics = json.loads((job / "metrics.json").read_text())
    assert metrics["epochs"] == 3
    assert 0 < metrics["val/loss"] < 2.3  # below chance on 10 digit classes
    assert "epoch 3/3" in (job / "train.log").read_text()  # progress per epoch
    config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
    assert config["optimizer"]["_target_"] == "torch.optim.Adam"


def test_swapping_config_groups(tmp_path: Path) -> None:
    result = run_train(
        "optimizer=sgd", "model=cnn", "regularization=dropout", "trainer.epochs=2", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr

    [job] = job_dirs(tmp_path / "outputs")
    config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
    assert config["optimizer"]["_target_"] == "torch.optim.SGD"
    assert config["model"]["_target_"] == "hpsweep.training.models.CNN"
    assert config["regularization"]["dropout"] == 0.2
    assert "training CNN" in (job / "train.log").read_text()


def test_training_on_a_users_csv(tmp_path: Path) -> None:
    write_blobs_csv(tmp_path / "my.csv")
    result = run_train(
        "data=csv", "data.path=my.csv", "data.target=label", "trainer.epochs=5", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr

    [job] = job_dirs(tmp_path / "outputs")
    metrics = json.loads((job / "metrics.json").read_text())
    assert metrics["val/acc"] > 0.8  # the classes are separable


BAD_INPUT = [
    # (arguments, fragments the message must contain)
    (["optimizer=adamm"], ["Could not find 'optimizer/adamm'", "adam", "adamw", "rmsprop", "sgd"]),
    (["model=resnet"], ["Could not find 'model/resnet'", "attention", "cnn", "mlp"]),
    (["trainer.epoch=3"], ["Could not override 'trainer.epoch'", "Did you mean: 'epochs'"]),
    (["optimizer.lr=0"], ["invalid value optimizer.lr=0: must be a number > 0"]),
    (["optimizer.lr=-0.1"], ["invalid value optimizer.lr=-0.1"]),
    (["regularization.dropout=1"], ["invalid value regularization.dropout=1: must be in [0, 1)"]),
    (["trainer.batch_size=0"], ["invalid value trainer.batch_size=0: must be an integer > 0"]),
    (["data=csv", "data.path=nope.csv", "data.target=label"], ["data file not found: nope.csv"]),
    (["data=csv", "data.path=my.csv", "data.target=species"], ["column 'species' not found"]),
    (["optimizer.lr=interval(1e-4"], ["optimizer.lr=interval(1e-4", "no viable alternative"]),
    (["-m", "optimizer.lr=0", "model=mlp,cnn"], ["invalid value optimizer.lr=0"]),
]


@pytest.mark.parametrize(("args", "fragments"), BAD_INPUT, ids=lambda v: " ".join(v))
def test_bad_input_exits_1_with_a_clear_message_and_no_output(
    args: list[str], fragments: list[str], tmp_path: Path
) -> None:
    write_blobs_csv(tmp_path / "my.csv")
    result = run_train(*args, cwd=tmp_path)

    assert result.returncode == 1
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my.csv"]  # no outputs/, multirun/
