"""A real headless browser (Chromium) opening a page, for tests of report.html."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in CI containers
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "the report.html tests need Chromium: apt-get install -y chromium (.ci/run does)"
    return found


def browser_command(*flags: str) -> list[str]:
    return [chromium(), *FLAGS, *flags]


def rendered_dom(page: Path, fragment: str = "", timeout: float = 60) -> str:
    """The page's DOM after its scripts ran, as Chromium serialises it."""
    done = subprocess.run(
        [*browser_command("--dump-dom"), page.resolve().as_uri() + fragment],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def screenshot(page: Path, png: Path, size: tuple[int, int] = (1280, 1400)) -> None:
    page = page.resolve()
    done = subprocess.run(
        [
            *browser_command(f"--window-size={size[0]},{size[1]}", f"--screenshot={png}"),
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and png.is_file(), done.stderr
