"""Start at login on macOS: a per-user LaunchAgent.

The agent is `~/Library/LaunchAgents/com.claude-usage-gauge.agent.plist`; launchd loads every
plist there when the user logs in, and `RunAtLoad` starts the program then. Nothing is loaded
or unloaded now: loading it would start a second tray beside the running one, and unloading it
would stop the tray that launchd started, which is the one the user may be disabling it from.
"""

from __future__ import annotations

import contextlib
import os
import plistlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from claude_usage_gauge.desktop.autostart._base import (
    AutostartStatus,
    FileAutostart,
)

LABEL = "com.claude-usage-gauge.agent"


def agent_path(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / f"{LABEL}.plist"


class LaunchAgent(FileAutostart):
    def __init__(
        self,
        command: list[str],
        *,
        home: Path,
        allow_label: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(command, agent_path(home))
        self._allow_label = allow_label

    def entry(self) -> str:
        return agent_plist(self.command).decode("utf-8")

    def enable(self) -> AutostartStatus:
        status = super().enable()
        if self._allow_label is not None:
            self._allow_label(LABEL)
        return status


def agent_plist(command: list[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            # Interactive: launchd does not throttle it like a background daemon.
            "ProcessType": "Interactive",
            # Only in a graphical login, not in ssh or background sessions.
            "LimitLoadToSessionType": "Aqua",
        },
        fmt=plistlib.FMT_XML,
    )


def allow_label_in_launchd(label: str) -> None:
    """Clear a `launchctl disable` left over for our label, which would keep the agent off.

    It starts nothing. Best effort: only on macOS, and a failure changes nothing else.
    """
    if sys.platform != "darwin":
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["/bin/launchctl", "enable", f"gui/{os.getuid()}/{label}"],
            check=False,
            capture_output=True,
            timeout=10,
        )
