"""train.py end to end, in subprocesses, as a user types it.

Each command runs with the test's tmp_path as working directory, so Hydra's
outputs/ and multirun/ land there and "no folder was created" can be checked.
Python runs with -W error, as Hydra's own run_python_script does. Bad input has its
own table: tests/test_bad_input.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import TRAIN_PY, WARNINGS_AS_ERRORS
from tests.data_files import write_blobs_csv


def run_train(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [sys.executable, *WARNINGS_AS_ERRORS, str(TRAIN_PY), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        # Generous: a sweep on a loaded 2-core machine; pytest-timeout's 600 s still binds.
        timeout=540,
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
