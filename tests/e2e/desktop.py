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
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

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
