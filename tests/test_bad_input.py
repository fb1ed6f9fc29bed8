"""Bad input, at every layer, as a user types it: one line, exit code 1, nothing on disk.

Each row runs train.py from an empty directory (the data files it needs lie in a
sibling directory) and asserts exit code 1, no traceback, and the directory still empty
afterwards: no outputs/, no multirun/, no study. hpsweep's own checks print exactly one
line on stderr, `Error: ...`; Hydra's own errors (unknown option or key, malformed
override) keep Hydra's message, which lists the choices.

One row per error path runs `python train.py` in a subprocess, as a user would (Hydra's
parser, Hydra's composition, hpsweep's checks of a run, of data files, of a sweep's
values and of its sweeper's settings); the other rows call train.py's Hydra entry
point in this process with the same command line (about 1.1 s saved each).
"""

from __future__ import annotations

import logging
import runpy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hydra.core.global_hydra import GlobalHydra

from tests.conftest import TRAIN_PY
from tests.data_files import write_blobs_csv
from tests.test_cli import run_train


def _csv(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text)


def _npz(**arrays: np.ndarray) -> Callable[[Path], None]:
    return lambda path: np.savez(path, **arrays)


DATA_FILES: dict[str, Callable[[Path], object]] = {
    "my.csv": write_blobs_csv,
    "regression.csv": lambda path: write_blobs_csv(path, regression=True),
    "text.csv": _csv("city,size,label\nParis,1,a\nRome,2,b\nOslo,3,a\n"),
    "gap.csv": _csv("f1,f2,label\n1,2,a\n3,4,b\n5,,a\n"),
    "nan.csv": _csv("f1,f2,label\n1,2,a\nnan,4,b\n5,6,a\n"),
    "inf.csv": _csv("f1,f2,label\n1,2,a\n3,4,b\n5,inf,a\n"),
    "header.csv": _csv("f1,f2,label\n"),
    "binary.csv": lambda path: path.write_bytes(b"\xff\xfe\x00\x81 not text"),
    "fractions.csv": _csv("f1,f2,y\n1,2,0.5\n3,4,1.25\n5,6,2.75\n7,8,0.1\n9,1,3.3\n"),
    "nan.npz": _npz(x=np.array([[1.0, 2.0], [np.nan, 3.0]]), y=np.array([0, 1])),
    "arrays.npz": _npz(features=np.zeros((4, 2)), labels=np.zeros(4)),
}

# Hydra's own message: several lines, naming the choices.
HYDRA = "hydra"


def row(*args: str, message: str, by: str = "hpsweep", in_subprocess: bool = False) -> object:
    """One bad command line; `in_subprocess`: the row that runs its error path for real."""
    return pytest.param(list(args), message, by, in_subprocess, id=" ".join(args))


def csv_args(name: str, target: str = "label") -> tuple[str, ...]:
    return ("data=csv", f"data.path=DATA/{name}", f"data.target={target}")


BAD_INPUT = [
    # -- what Hydra rejects: unknown option, unknown key, malformed override
    row(
        "optimizer=adamm",
        message="Could not find 'optimizer/adamm'",
        by=HYDRA,
        in_subprocess=True,
    ),
    row("model=resnet", message="Could not find 'model/resnet'", by=HYDRA),
    row("trainer.epoch=3", message="Did you mean: 'epochs'?", by=HYDRA),
    row(
        "optimizer.lr=interval(1e-4",
        message="no viable alternative",
        by=HYDRA,
        in_subprocess=True,
    ),
    row(
        "-m",
        "hydra.sweeper.n_trialz=3",
        message="Did you mean: 'n_trials'?",
        by=HYDRA,
        in_subprocess=True,
    ),
    # -- values of a run
    row(
        "optimizer.lr=0",
        message="invalid value optimizer.lr=0: must be a number > 0",
        in_subprocess=True,
    ),
    row("regularization.dropout=1", message="regularization.dropout=1: must be in [0, 1)"),
    row("trainer.batch_size=0", message="trainer.batch_size=0: must be an integer > 0"),
    # -- data files: missing, unreadable, not numbers, missing values, not fitting
    row(*csv_args("nope.csv"), message="data file not found: DATA/nope.csv"),
    row(*csv_args("my.csv", "species"), message="column 'species' not found in"),
    row(*csv_args("binary.csv"), message="cannot read DATA/binary.csv as CSV"),
    row(
        *csv_args("text.csv"),
        message="column 'city', row 1 (line 2): 'Paris' is not a number",
        in_subprocess=True,
    ),
    row(*csv_args("gap.csv"), message="column 'f2', row 3 (line 4): an empty cell"),
    row(*csv_args("nan.csv"), message="column 'f1', row 2 (line 3): 'nan' is not a finite"),
    row(*csv_args("inf.csv"), message="column 'f2', row 3 (line 4): 'inf' is not a finite"),
    row(*csv_args("header.csv"), message="DATA/header.csv has a header and no rows"),
    row(
        *csv_args("fractions.csv", "y"),
        "data.task=classification",
        message="holds fractions such as '0.5' (row 1): use data.task=regression",
    ),
    row(*csv_args("my.csv"), "model=cnn", message="model=cnn needs image data"),
    row("data=npz", "data.path=DATA/nan.npz", message="x[1, 0] is nan: sample 1"),
    row("data=npz", "data.path=DATA/arrays.npz", message="must hold arrays 'x' and 'y'"),
    # -- metrics the run never reports; a mode against its metric
    row(
        "callbacks.early_stopping.monitor=val/nonexistent",
        message="callbacks.early_stopping.monitor=val/nonexistent is not reported",
    ),
    row(
        *csv_args("regression.csv"),
        "objective.metric=val/acc",
        message="objective.metric=val/acc is not reported by this run on data=csv",
    ),
    row(
        "objective.metric=val/acc",
        "objective.mode=min",
        message="objective.mode=min contradicts objective.metric=val/acc",
    ),
    # -- a sweep: its searched values, its sweeper's settings
    row("-m", "optimizer.lr=0", "model=mlp,cnn", message="invalid value optimizer.lr=0"),
    row("-m", "optimizer=adam,adamm", message="Could not find 'optimizer/adamm' Available"),
    row("-m", "optimizer.lr=0.1,-1", message="invalid value optimizer.lr=-1", in_subprocess=True),
    row("-m", "regularization.dropout=0.1,1.5", message="regularization.dropout=1.5"),
    row("-m", "model=mlp,cnn", "model.width=8,0", message="invalid value model.width=0"),
    row("-m", "optimizer.lr=interval(1e-1,1e-4)", message="the bounds are in the wrong order"),
    row("-m", "optimizer.lr=tag(log,interval(0,1))", message="needs a lower bound > 0"),
    row("-m", "hydra/sweeper=grid", "optimizer.lr=interval(0.1,1)", message="runs lists only"),
    row("-m", *csv_args("text.csv"), "optimizer.lr=0.1,0.01", message="'Paris' is not a number"),
    row(
        "-m",
        "callbacks.early_stopping.monitor=val/nonexistent",
        message="callbacks.early_stopping.monitor=val/nonexistent is not reported",
    ),
    row(
        "-m",
        "hydra.sweeper.n_trials=0",
        message="hydra.sweeper.n_trials=0: must be an integ",
        in_subprocess=True,
    ),
    row("-m", "hydra.sweeper.n_trials=-3", message="invalid value hydra.sweeper.n_trials=-3"),
    row("-m", "hydra.sweeper.n_jobs=0", message="invalid value hydra.sweeper.n_jobs=0"),
    row("-m", "hydra.sweeper.max_failure_rate=2", message="max_failure_rate=2.0: must be a num"),
    row("-m", "hydra.sweeper.search=bayes", message="search=bayes: must be one of auto, grid"),
    row("-m", "hydra.sweeper.repeats=adaptiv", message="repeats=adaptiv: must be an integer"),
    row(
        "-m",
        "hydra.sweeper.repeats=adaptive",
        "hydra.sweeper.max_repeats=0",
        message="invalid value hydra.sweeper.max_repeats=0: must be an integer >= 1",
    ),
    row(
        "-m",
        "hydra.sweeper.repeats=adaptive",
        "hydra.sweeper.significance=1.5",
        message="significance=1.5: must be a number strictly between 0 and 1",
    ),
    row(
        "-m",
        "objective.metric=[val/loss,model/params]",
        "hydra.sweeper.direction=[minimize]",
        message="objective.metric lists 2 objectives but hydra.sweeper.direction 1",
    ),
    row(
        "-m",
        "objective.metric=[val/loss,model/params]",
        "hydra.sweeper.repeats=3",
        message="hydra.sweeper.repeats=3 with several objectives",
    ),
    # Hydra's basic sweeper (the grid preset) runs each combination once.
    row(
        "-m",
        "hydra/sweeper=grid",
        "optimizer=adam,sgd",
        "hydra.sweeper.repeats=adaptive",
        message="hydra.sweeper.repeats=adaptive: hydra/sweeper=grid (Hydra's basic sweeper) "
        "runs each combination once; hydra/sweeper=auto runs the same grid with repeats",
        in_subprocess=True,
    ),
    row("-m", "hydra/sweeper=grid", "hydra.sweeper.repeats=3", message="repeats=3: hydra/sw"),
    row(
        "-m",
        "hydra/sweeper=hyperband",
        "hydra.sweeper.pruner.reduction_factor=1",
        message="pruner.reduction_factor=1: must be an integer >= 2",
    ),
]


def run_train_here(
    args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> subprocess.CompletedProcess[str]:
    """`python train.py *args` from `cwd`, in this process: train.py's Hydra entry point
    with that command line. Hydra's global state and the logging it configures are put
    back afterwards."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["train.py", *args])
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with pytest.raises(SystemExit) as stopped:
            # As `python train.py` runs it: Hydra finds conf/ beside the __main__ script.
            runpy.run_path(str(TRAIN_PY), run_name="__main__")
    finally:
        GlobalHydra.instance().clear()
        root.handlers[:] = handlers
        root.setLevel(level)
    out, err = capfd.readouterr()
    return subprocess.CompletedProcess(args, stopped.value.code, out, err)


@pytest.mark.parametrize(("args", "message", "by", "in_subprocess"), BAD_INPUT)
def test_bad_input_stops_with_one_line_and_leaves_nothing(
    args: list[str],
    message: str,
    by: str,
    in_subprocess: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    data, run = tmp_path / "data", tmp_path / "run"
    data.mkdir()
    run.mkdir()
    for name, write in DATA_FILES.items():
        write(data / name)
    command = [arg.replace("DATA", str(data)) for arg in args]
    if in_subprocess:
        result = run_train(*command, cwd=run)
    else:
        result = run_train_here(command, run, monkeypatch, capfd)

    stderr = result.stderr.replace(str(data), "DATA")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    if by == HYDRA:
        assert message in stderr
    else:
        [line] = stderr.splitlines()
        assert line.startswith("Error: ")
        assert message in line
    assert list(run.iterdir()) == []  # no outputs/, no multirun/, no study


def test_no_cuda_is_one_line(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = run_train("trainer.device=cuda", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: trainer.device=cuda but torch sees no CUDA device")
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_run_time_error_is_one_line_pointing_to_the_log(tmp_path: Path) -> None:
    # Valid input that fails while training: a weight matrix too large to allocate.
    result = run_train(
        "model.width=1000000000000", "data=synthetic", "trainer.epochs=1", cwd=tmp_path
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: the run failed: RuntimeError: ")
    assert "allocate" in line
    log = Path(line.rsplit("(traceback in ", 1)[1].rstrip(")"))
    assert log.name == "train.log"
    assert log.is_relative_to(tmp_path / "outputs")
    assert "Traceback" in log.read_text()
    assert "Traceback" not in result.stdout


def test_a_sweep_that_can_prune_nothing_says_so_at_its_start(tmp_path: Path) -> None:
    # A dry run: the sweep's start-up checks run, nothing trains.
    result = run_train(
        "-m",
        "hydra/sweeper=hyperband",
        "trainer.epochs=1",
        "optimizer.lr=tag(log,interval(1e-4,1e-1))",
        "hydra.sweeper.dry_run=true",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    [warning] = [line for line in result.stdout.splitlines() if "prune nothing" in line]
    assert "HyperbandPruner will prune nothing: every trial has run its last epoch" in warning
