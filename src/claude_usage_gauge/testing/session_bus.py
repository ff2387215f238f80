"""A private session D-Bus for tests and benchmarks: its own dbus-daemon, its own service files,
the real `status-notifier-watcher`, and busctl to look at what the tray exports.

Nothing is mocked: the tray under test talks to a real bus daemon, a real watcher registers it,
and busctl (systemd's client, not ours) reads its properties and calls its methods.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BUS_TOOLS = ("dbus-daemon", "busctl", "status-notifier-watcher")
WATCHER = "org.kde.StatusNotifierWatcher"
ITEM_PATH = "/StatusNotifierItem"
ITEM = "org.kde.StatusNotifierItem"
MENU_PATH = "/MenuBar"
MENU = "com.canonical.dbusmenu"

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{service_dir}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def missing_bus_tools() -> list[str]:
    return [tool for tool in BUS_TOOLS if shutil.which(tool) is None]


def wait_until(predicate: object, timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; its last answer."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class SessionBus:
    """Only the service files a test writes are activatable here (`add_service`)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.service_dir = workdir / "services"
        self.address = ""
        self._daemon_pid: int | None = None
        self._watcher: subprocess.Popen[bytes] | None = None

    def start(self) -> SessionBus:
        self.service_dir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "bus.conf"
        config.write_text(
            _CONFIG.format(socket_dir=self.workdir, service_dir=self.service_dir),
            encoding="utf-8",
        )
        out = subprocess.run(
            [
                "dbus-daemon",
                f"--config-file={config}",
                "--fork",
                "--print-address=1",
                "--print-pid=1",
                "--nopidfile",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout.split()
        self.address, self._daemon_pid = out[0], int(out[1])
        return self

    def stop(self) -> None:
        self.stop_watcher()
        if self._daemon_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._daemon_pid, signal.SIGTERM)
            self._daemon_pid = None

    @property
    def env(self) -> dict[str, str]:
        """The variables a client needs: this bus, and no display at all."""
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DBUS_", "WAYLAND", "DISPLAY", "XDG_RUNTIME"))
        }
        return dict(base, DBUS_SESSION_BUS_ADDRESS=self.address)

    def add_service(self, name: str, command: str) -> None:
        """An activatable service: the bus runs `command` when a call names `name`."""
        text = f"[D-BUS Service]\nName={name}\nExec={command}\n"
        (self.service_dir / f"{name}.service").write_text(text, encoding="utf-8")
        # The daemon watches its service directories; this makes sure it has read the new file.
        self.call(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ReloadConfig"
        )

    # -- the watcher ---------------------------------------------------------------------------

    def start_watcher(self) -> None:
        log = (self.workdir / "watcher.log").open("ab")
        env = self.env
        self._watcher = subprocess.Popen(
            ["status-notifier-watcher"], env=env, stdout=log, stderr=log
        )
        if not wait_until(lambda: self.has_owner(WATCHER), 20):
            raise RuntimeError("status-notifier-watcher did not take its name")

    def stop_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None and watcher.poll() is None:
            watcher.terminate()
            try:
                watcher.wait(5)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait(5)

    def registered_items(self) -> list[str]:
        value = self.get(
            WATCHER, "/StatusNotifierWatcher", WATCHER, "RegisteredStatusNotifierItems"
        )
        return [str(item) for item in value] if isinstance(value, list) else []

    # -- busctl --------------------------------------------------------------------------------

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = [argv[0], f"--address={self.address}", *argv[1:]]
        return subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)

    def names(self) -> list[str]:
        out = self.run("busctl", "list", "--json=short", "--no-pager").stdout
        with contextlib.suppress(ValueError):
            return [str(entry["name"]) for entry in json.loads(out)]
        return []

    def has_owner(self, name: str) -> bool:
        return name in self.names()

    def item_name(self) -> str | None:
        return next((n for n in self.names() if n.startswith(ITEM + "-")), None)

    def get(self, dest: str, path: str, interface: str, prop: str) -> Any:
        result = self.run("busctl", "get-property", "--json=short", dest, path, interface, prop)
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)["data"]

    def call(self, dest: str, path: str, interface: str, method: str, *args: str) -> Any:
        """The reply's values, or raises `BusCallFailed` with busctl's words."""
        result = self.run("busctl", "call", "--json=short", dest, path, interface, method, *args)
        if result.returncode != 0:
            raise BusCallFailed(result.stderr.strip())
        return json.loads(result.stdout)["data"] if result.stdout.strip() else []

    @contextlib.contextmanager
    def monitor(self, name: str) -> Iterator[Path]:
        """Record every message on the bus (JSON lines) while the block runs."""
        path = self.workdir / f"{name}.jsonl"
        with path.open("wb") as out:
            proc = subprocess.Popen(
                ["stdbuf", "-oL", "busctl", f"--address={self.address}", "monitor", "--json=short"],
                stdout=out,
                stderr=subprocess.DEVNULL,
            )
            try:
                # busctl must be watching before the block acts: its own Hello is the sign.
                wait_until(lambda: path.stat().st_size > 0, 10)
                yield path
            finally:
                proc.terminate()
                proc.wait(10)


class BusCallFailed(Exception):
    pass


def read_monitor(path: Path) -> list[dict[str, Any]]:
    messages = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                messages.append(json.loads(line))
    return messages


@contextlib.contextmanager
def running_bus(workdir: Path, *, watcher: bool = True) -> Iterator[SessionBus]:
    bus = SessionBus(workdir)
    try:
        bus.start()
        if watcher:
            bus.start_watcher()
        yield bus
    finally:
        bus.stop()
