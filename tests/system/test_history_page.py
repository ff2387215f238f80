"""`claude-usage-gauge history`, run for real, and its page drawn by a real headless Chromium.

The store holds a week the app could have recorded (tests/support/usage_week.py); the command
writes the page, and Chromium takes a screenshot in light and in dark mode into
artifacts/history/ (looked at by the author; the pixels checked here are the lines' own colours).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from tests.support.cli_home import CliHome, closed_port
from tests.support.usage_week import usage_week

ARTIFACTS = Path(os.environ.get("CLAUDE_USAGE_GAUGE_ARTIFACTS", "artifacts")) / "history"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The colours of the page's style: background, the usage line, the pace line.
LIGHT = {"bg": (0xFF, 0xFF, 0xFF), "line": (0x25, 0x63, 0xEB), "pace": (0x7C, 0x3A, 0xED)}
DARK = {"bg": (0x16, 0x16, 0x18), "line": (0x60, 0xA5, 0xFA), "pace": (0xC4, 0xB5, 0xFD)}


@pytest.fixture
def home(tmp_path: Path) -> CliHome:
    made = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    made.write_credentials()
    paths = AppPaths(made.state_dir, made.root / "data", made.root / "log", made.root / "cfg")
    week = usage_week(datetime.now(UTC).replace(second=0, microsecond=0))
    Store(paths).update(lambda _: week)
    return made


def test_history_writes_a_private_page_and_prints_where(home: CliHome) -> None:
    proc = home.run("history")
    home.assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    page = Path(proc.stdout.strip())
    assert page == home.state_dir / "usage-history.html"
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    text = page.read_text()
    assert text.count("<svg") == 2
    assert "<script" not in text


def test_history_to_a_file_of_ones_choice_and_to_stdout(home: CliHome, tmp_path: Path) -> None:
    target = tmp_path / "mine" / "week.html"
    target.parent.mkdir(mode=0o755)
    proc = home.run("history", "--output", str(target))
    home.assert_clean(proc)
    assert proc.returncode == 0
    assert target.read_text().startswith("<!DOCTYPE html>")
    # The user's folder keeps its mode; the page itself is private.
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    out = home.run("history", "--output", "-")
    home.assert_clean(out)
    assert out.stdout.startswith("<!DOCTYPE html>")

    missing = home.run("history", "--output", str(tmp_path / "no" / "such" / "dir" / "p.html"))
    home.assert_clean(missing)
    assert missing.returncode == 1
    assert "Could not write" in missing.stderr


def test_history_open_hands_the_page_to_the_browser(home: CliHome, tmp_path: Path) -> None:
    # $BROWSER is how a user picks the browser; this one writes down what it was given.
    record = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(f"import sys\nopen({str(record)!r}, 'w').write(sys.argv[1])\n")
    proc = home.run("history", "--open", env={"BROWSER": f"{sys.executable} {browser} %s"})
    home.assert_clean(proc)
    assert proc.returncode == 0
    assert record.read_text() == (home.state_dir / "usage-history.html").as_uri()


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (scripts/test installs it)",
)
@pytest.mark.parametrize(("scheme", "colours"), [("light", LIGHT), ("dark", DARK)])
def test_chromium_draws_the_page(
    home: CliHome, tmp_path: Path, scheme: str, colours: dict[str, tuple[int, int, int]]
) -> None:
    assert CHROMIUM is not None, "chromium is missing (it is in scripts/lib/setup.sh)"
    page = tmp_path / "page.html"
    proc = home.run("history", "--output", str(page))
    assert proc.returncode == 0, proc.stderr
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"history-{scheme}.png"
    shot.unlink(missing_ok=True)
    screenshot(page, shot, tmp_path / "profile", dark=scheme == "dark")

    image = Image.open(shot).convert("RGB")
    assert image.getpixel((5, 5)) == colours["bg"]
    counts = colour_counts(image)
    # Two charts of a week of lines, and two dashed pace lines.
    assert counts.get(colours["line"], 0) > 1500, sorted(counts.items(), key=lambda i: -i[1])[:8]
    assert counts.get(colours["pace"], 0) > 40


def screenshot(page: Path, shot: Path, profile: Path, *, dark: bool) -> None:
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        "--window-size=1040,760",
        f"--screenshot={shot}",
    ]
    if dark:
        args.append("--force-dark-mode")  # prefers-color-scheme: dark
    proc = subprocess.run(
        [*args, page.as_uri()], capture_output=True, text=True, timeout=120, check=False
    )
    assert shot.exists(), proc.stderr[-2000:]


def colour_counts(image: Image.Image) -> dict[tuple[int, int, int], int]:
    counts: dict[tuple[int, int, int], int] = {}
    for count, colour in image.getcolors(maxcolors=1 << 20) or []:
        assert isinstance(colour, tuple)
        red, green, blue = colour[:3]
        counts[(red, green, blue)] = count
    return counts
