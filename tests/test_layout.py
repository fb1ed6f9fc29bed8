"""The package's shape, read from its source: imports point one way between its rooms,
no function runs past a screen, and the public API is where apps look for it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SRC = ROOT / "src"
# room -> the rooms it must never import (what sits above it). sweep/ is the record
# every other room reads; training/ and report/ read it; search/ (the sweeper's logic)
# reads sweep/ and report/; the Hydra adapter and callbacks sit on top.
OPTUNA_ONLY = (
    "hpsweep.sweep",
    "hpsweep.training",
    "hpsweep.report",
    "hpsweep.search",
    "hpsweep.tensorboard",
    "hpsweep.hydra_callbacks",
    "hydra_plugins",
)
FORBIDDEN = {
    "hpsweep.sweep": (
        "hpsweep.training",
        "hpsweep.report",
        "hpsweep.search",
        "hpsweep.tensorboard",
    ),
    "hpsweep.tensorboard": ("hpsweep.training", "hpsweep.report", "hpsweep.search"),
    "hpsweep.training": ("hpsweep.report", "hpsweep.search"),
    "hpsweep.report": ("hpsweep.search",),
    # Optuna samplers and pruners any Optuna user can take: nothing of hpsweep inside.
    "hpsweep.samplers": OPTUNA_ONLY,
    "hpsweep.pruners": OPTUNA_ONLY,
    "hpsweep.search": (
        "hpsweep.training",
        "hpsweep.hydra_callbacks",
        "hydra_plugins.hpsweep_sweeper",
    ),
}
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module the file imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def upward_imports(room: str, above: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = module_name(path)
        if module != room and not module.startswith(room + "."):
            continue
        for name in imported_modules(path):
            if any(name == a or name.startswith(a + ".") for a in above):
                found.append(f"{module} imports {name}")
    return found


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_imports_point_one_way(room: str) -> None:
    assert upward_imports(room, FORBIDDEN[room]) == []


def test_the_layering_check_sees_an_upward_import(tmp_path: Path) -> None:
    path = tmp_path / "example.py"
    path.write_text("def f():\n    from hpsweep.report import load_sweep\n")
    assert imported_modules(path) == {"hpsweep.report"}


def test_no_function_runs_past_a_screen() -> None:
    long = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{module_name(path)}.{node.name}: {lines} lines")
    assert long == []


def test_an_app_imports_the_public_api_from_the_top() -> None:
    code = (
        "import hpsweep\n"
        "from hpsweep import SweepTrial, load_recorded_study, TrialOutcome, RunStatus\n"
        "print(sorted(hpsweep.__all__))"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "SweepTrial" in result.stdout and "load_recorded_study" in result.stdout
