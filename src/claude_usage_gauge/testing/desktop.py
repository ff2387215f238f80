"""A real, minimal Linux desktop for the tray tests: Xvfb, a session D-Bus, dunst and trayer.

trayer is an XEmbed system tray, so the icon really docks; dunst really shows notifications;
xdotool really clicks. Nothing here is mocked.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.menu import MenuContext, build_menu
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.view import build_view
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file

TOOLS = ("Xvfb", "trayer", "dbus-daemon", "dunst", "xdotool", "import", "xwininfo")
SCREEN = (800, 600)


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def wait_until(predicate: object, timeout: float, interval: float = 0.1) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


@dataclass(frozen=True)
class Geometry:
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


class Desktop:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env: dict[str, str] = {}
        self._procs: list[subprocess.Popen[bytes]] = []
        self._dbus_pid: int | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Desktop:
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                f"{SCREEN[0]}x{SCREEN[1]}x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        self._procs.append(xvfb)
        with os.fdopen(read_fd) as pipe:
            display = pipe.readline().strip()
        if not display:
            raise RuntimeError("Xvfb did not report a display")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "WAYLAND"))}
        self.env = dict(base, DISPLAY=f":{display}", NO_AT_BRIDGE="1", GDK_BACKEND="x11")

        out = subprocess.run(
            [
                "dbus-daemon",
                "--session",
                "--fork",
                "--print-address=1",
                "--print-pid=1",
                "--nopidfile",
            ],
            capture_output=True,
            text=True,
            check=True,
            env=self.env,
        ).stdout.split()
        self.env["DBUS_SESSION_BUS_ADDRESS"] = out[0]
        self._dbus_pid = int(out[1])

        self._spawn(["dunst"], "dunst.log")
        self._spawn(
            [
                "trayer",
                "--edge",
                "top",
                "--align",
                "right",
                "--widthtype",
                "request",
                "--height",
                "32",
                "--SetDockType",
                "true",
                "--transparent",
                "false",
                "--tint",
                "0x303030",
                "--expand",
                "true",
            ],
            "trayer.log",
        )
        if not wait_until(lambda: self.find_windows(name="panel"), 30):
            raise RuntimeError("trayer did not start")
        return self

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if self._dbus_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._dbus_pid, signal.SIGTERM)

    def _spawn(self, argv: Sequence[str], log_name: str) -> None:
        log = (self.workdir / log_name).open("wb")
        self._procs.append(subprocess.Popen(argv, env=self.env, stdout=log, stderr=log))

    # -- looking and clicking ------------------------------------------------------------------

    def run(self, *argv: str) -> str:
        return subprocess.run(
            list(argv), env=self.env, capture_output=True, text=True, timeout=20, check=False
        ).stdout

    def find_windows(self, *, name: str | None = None, cls: str | None = None) -> list[str]:
        args = ["xdotool", "search", "--onlyvisible"] if name == "panel" else ["xdotool", "search"]
        if cls is not None:
            args += ["--class", cls]
        else:
            args += ["--name", f"^{name}$"]
        return self.run(*args).split()

    def geometry(self, window: str) -> Geometry:
        text = self.run("xwininfo", "-id", window)
        x = int(re.search(r"Absolute upper-left X:\s+(-?\d+)", text).group(1))  # type: ignore[union-attr]
        y = int(re.search(r"Absolute upper-left Y:\s+(-?\d+)", text).group(1))  # type: ignore[union-attr]
        w = int(re.search(r"Width:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
        h = int(re.search(r"Height:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
        return Geometry(x, y, w, h)

    def docked_icon(self, cls: str) -> Geometry | None:
        """The icon's window inside trayer's panel (y within the 32 px bar), if docked."""
        for window in self.find_windows(cls=cls):
            with contextlib.suppress(AttributeError, ValueError):
                geometry = self.geometry(window)
                if geometry.y < 32 and geometry.width >= 8 and geometry.x >= 0:
                    return geometry
        return None

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.run("xdotool", "mousemove", str(x), str(y), "click", str(button))

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("xdotool", "key", key)
            time.sleep(0.05)

    def screenshot(self, path: Path) -> Image.Image:
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env, check=True, timeout=20
        )
        with Image.open(path) as image:
            return image.convert("RGB")

    def window_names(self) -> list[str]:
        return re.findall(r'0x[0-9a-f]+ "([^"]*)"', self.run("xwininfo", "-root", "-tree"))


@contextlib.contextmanager
def running_desktop(workdir: Path) -> Iterator[Desktop]:
    desktop = Desktop(workdir)
    try:
        yield desktop.start()
    finally:
        desktop.stop()


# A token that must never appear in anything the app writes, prints or shows.
E2E_TOKEN = "sk-ant-oat01-E2eTokenDoNotLeak_" + "x" * 40


class TrayHome:
    """A temporary user: credentials as Claude Code writes them, and private app directories."""

    def __init__(self, root: Path, api_url: str, desktop: Desktop, token: str = E2E_TOKEN) -> None:
        self.root = root
        document = credentials_document(
            token,
            refresh_token="sk-ant-ort01-RefreshDoNotLeak",
            rate_limit_tier=None,
            other_keys={"mcpOAuth": {"kept": True}},
        )
        write_credentials_file(root / ".claude", document, indent=None)
        self.env = dict(
            desktop.env,
            HOME=str(root),
            XDG_STATE_HOME=str(root / "state"),
            XDG_DATA_HOME=str(root / "data"),
            XDG_CONFIG_HOME=str(root / "config"),
            XDG_CACHE_HOME=str(root / "cache"),
            CLAUDE_USAGE_GAUGE_API_BASE=api_url,
        )
        self.env.pop("CLAUDE_CONFIG_DIR", None)
        self.paths = AppPaths(
            state_dir=root / "state" / APP_NAME,
            data_dir=root / "data" / APP_NAME,
            log_dir=root / "state" / APP_NAME / "log",
            config_dir=root / "config" / APP_NAME,
        )

    def launch(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "claude_usage_gauge"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def menu_position(self, text: str) -> int:
        """How many Down presses select `text` in the tray's menu (built the same way)."""
        state = Store(self.paths).read()
        now = datetime.now(UTC)
        # As the app builds it on Linux: autostart is available, so "Start at login" is listed.
        context = MenuContext(plan="max", autostart_on=False)
        entries = build_menu(build_view(state, now, Settings()), now, context)
        selectable = [e for e in entries if not e.is_separator]
        for index, entry in enumerate(selectable):
            if entry.text == text:
                return index + 1
        raise AssertionError(f"{text!r} not in menu: {[e.text for e in selectable]}")
