"""A user's own Hydra app prints no warning of hpsweep's or of the ray extra's plugins
(hydra_plugins/hpsweep_quiet): run as a real process, on a regular install's layout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import hydra_plugins

pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="the ray extra is not installed")

APP = """\
import hydra


@hydra.main()
def main(cfg) -> None:
    print("ran")


main()
"""


def regular_install_plugins(root: Path, leave_out: str | None = None) -> Path:
    """A folder for PYTHONPATH whose hydra_plugins holds every installed plugin side by
    side (links to where each is installed), as site-packages does in a regular install.
    Hydra's scanner imports one folder's plugins in sorted order; an editable install
    (the suite's) puts hpsweep's on a folder of their own, scanned after site-packages."""
    folder = root / "hydra_plugins"
    folder.mkdir(parents=True)
    for entry in hydra_plugins.__path__:
        for package in sorted(Path(entry).iterdir()):
            link = folder / package.name
            is_plugin = (package / "__init__.py").is_file() and package.name != leave_out
            if is_plugin and not link.exists():  # the first on the path wins, as in Python
                link.symlink_to(package)
    return root


def run_app(tmp_path: Path, plugins: Path, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "app.py").write_text(APP)
    path = os.pathsep.join(filter(None, [str(plugins), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, *options, "app.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )


# Default filters: what a user sees. -W error: no warning is raised at all, not even one
# the default filters hide.
@pytest.mark.parametrize("options", [(), ("-W", "error")], ids=["default", "W-error"])
def test_a_users_own_app_prints_no_plugin_warning(options: tuple[str, ...], tmp_path: Path) -> None:
    result = run_app(tmp_path, regular_install_plugins(tmp_path / "site"), *options)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ran\n"
    assert result.stderr == ""


def test_without_hpsweep_quiet_the_ray_launcher_warns(tmp_path: Path) -> None:
    # The control: the scan above did import hydra-ray-launcher, which still warns. When
    # this fails, a release of the launcher fixed it: hpsweep_quiet and the filters in
    # train.py, tests/conftest.py and pyproject.toml can go.
    plugins = regular_install_plugins(tmp_path / "site", leave_out="hpsweep_quiet")
    result = run_app(tmp_path, plugins)
    assert result.returncode == 0, result.stderr
    assert "warnings from 'hydra_plugins.hydra_ray_launcher" in result.stderr
    assert "register_new_resolver() is deprecated" in result.stderr
