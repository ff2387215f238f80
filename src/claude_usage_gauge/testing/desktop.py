"""A real, minimal Linux desktop for the tray tests: Xvfb, a session D-Bus, dunst, and a tray.

The tray is either trayer, an old XEmbed tray (the icon is an X window docked in it), or a
StatusNotifierItem host: the real status-notifier-watcher and gtk-sni-tray-standalone, which
draws items and their dbusmenu menus with libdbusmenu-gtk3. dunst really shows notifications;
xdotool really clicks. Nothing here is mocked.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageChops

from claude_usage_gauge.testing.session_bus import BUS_TOOLS, SessionBus, wait_until

Host = Literal["trayer", "sni"]
TOOLS = ("Xvfb", "trayer", "dbus-daemon", "dunst", "xdotool", "import", "xwininfo")
SNI_TOOLS = (*BUS_TOOLS, "gtk-sni-tray-standalone", "Xvfb", "dunst", "xdotool", "import")
SCREEN = (1280, 800)  # a common laptop screen: menus must fit it
BAR_HEIGHT = 32
SNI_HOST = "gtk-sni-tray-standalone"


def missing_tools(host: Host = "trayer") -> list[str]:
    return [tool for tool in (SNI_TOOLS if host == "sni" else TOOLS) if shutil.which(tool) is None]


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
    def __init__(self, workdir: Path, host: Host = "trayer") -> None:
        self.workdir = workdir
        self.host = host
        self.env: dict[str, str] = {}
        self.bus = SessionBus(workdir / "bus")
        self._procs: list[subprocess.Popen[bytes]] = []

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
        self.bus.start()
        self.env = dict(self.bus.env, DISPLAY=f":{display}", NO_AT_BRIDGE="1", GDK_BACKEND="x11")
        self._spawn(["dunst"], "dunst.log")
        if self.host == "sni":
            self._start_sni_host()
        else:
            self._start_trayer()
        return self

    def _start_sni_host(self) -> None:
        self.bus.start_watcher()
        self._spawn(
            [SNI_HOST, "--top", "--end", "--size", str(BAR_HEIGHT), "--color", "#303030"],
            "sni-host.log",
        )
        if not wait_until(lambda: self.find_windows(name=SNI_HOST, visible=True), 30):
            raise RuntimeError("the StatusNotifierItem host did not start")

    def _start_trayer(self) -> None:
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
        if not wait_until(lambda: self.find_windows(name="panel", visible=True), 30):
            raise RuntimeError("trayer did not start")

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.bus.stop()

    def _spawn(self, argv: Sequence[str], log_name: str) -> None:
        log = (self.workdir / log_name).open("wb")
        self._procs.append(subprocess.Popen(argv, env=self.env, stdout=log, stderr=log))

    # -- looking and clicking ------------------------------------------------------------------

    def run(self, *argv: str) -> str:
        return subprocess.run(
            list(argv), env=self.env, capture_output=True, text=True, timeout=20, check=False
        ).stdout

    def find_windows(
        self, *, name: str | None = None, cls: str | None = None, visible: bool = False
    ) -> list[str]:
        args = ["xdotool", "search", "--onlyvisible"] if visible else ["xdotool", "search"]
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
        # Visible ones only: GTK's unmapped client-leader window carries the same class.
        for window in self.find_windows(cls=cls, visible=True):
            with contextlib.suppress(AttributeError, ValueError):
                geometry = self.geometry(window)
                if geometry.y < 32 and geometry.width >= 8 and geometry.x >= 0:
                    return geometry
        return None

    def sni_icon(self) -> Geometry | None:
        """Where the SNI host draws an item: whatever differs from the bar's background."""
        shot = self.screenshot(self.workdir / "bar.png").crop((0, 0, SCREEN[0], BAR_HEIGHT))
        background = Image.new("RGB", shot.size, shot.getpixel((1, BAR_HEIGHT // 2)))
        box = ImageChops.difference(shot, background).getbbox()
        if box is None or box[2] - box[0] < 8:
            return None
        return Geometry(box[0], box[1], box[2] - box[0], box[3] - box[1])

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

    def menus(self) -> list[Geometry]:
        """The popup menus on screen now (under the bar, not tiny helper windows), the oldest
        first: a submenu comes after the menu it opens from."""
        found: list[Geometry] = []
        tree = self.run("xwininfo", "-root", "-children")
        for window, name in re.findall(r'^\s+(0x[0-9a-f]+) "?([^"(]*)', tree, re.MULTILINE):
            # dunst's notification windows are not menus.
            if name == "Dunst" or "IsViewable" not in self.run("xwininfo", "-id", window):
                continue
            # Nor is the icon's tooltip, which GTK shows while the pointer rests on the icon
            # (xprop comes with xwininfo, in x11-utils).
            if "TOOLTIP" in self.run("xprop", "-id", window, "_NET_WM_WINDOW_TYPE"):
                continue
            with contextlib.suppress(AttributeError, ValueError):
                geometry = self.geometry(window)
                # Below the bar (which sits at the top: GTK may overlap it by a pixel).
                if geometry.y > 0 and geometry.width > 20 and geometry.height > 20:
                    found.append(geometry)
        # xwininfo lists the topmost first.
        return found[::-1]

    def window_names(self) -> list[str]:
        return re.findall(r'0x[0-9a-f]+ "([^"]*)"', self.run("xwininfo", "-root", "-tree"))


@contextlib.contextmanager
def running_desktop(workdir: Path, host: Host = "trayer") -> Iterator[Desktop]:
    desktop = Desktop(workdir, host)
    try:
        yield desktop.start()
    finally:
        desktop.stop()
