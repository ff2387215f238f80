"""Start the tray at login: one entry per platform, chosen once, behind `Autostart`.

    entry = autostart_for()          # this platform, starting this program
    entry.enable().state             # AutostartState.ENABLED
    entry.status().location          # where the entry lives, for people

Linux and other free desktops use an XDG autostart file, macOS a LaunchAgent, Windows the Run
key. `autostart_command` is the `claude-usage-gauge autostart enable|disable|status` command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.desktop.autostart._base import Autostart, AutostartState, AutostartStatus
from claude_usage_gauge.desktop.autostart._windows import RunKey

__all__ = [
    "Autostart",
    "AutostartState",
    "AutostartStatus",
    "RunKey",
    "autostart_command",
    "autostart_for",
]

ACTIONS = ("enable", "disable", "status")


def autostart_for(
    platform: str = sys.platform,
    *,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    registry: RunKey | None = None,
    command: list[str] | None = None,
) -> Autostart:
    """The start-at-login entry for `platform`, starting `command` (default: this program)."""
    if command is None:
        from claude_usage_gauge.desktop.launcher import program_command

        command = program_command(windowed=True)
    if platform == "win32":
        from claude_usage_gauge.desktop.autostart._windows import RunKeyAutostart, default_run_key

        return RunKeyAutostart(command, registry=registry or default_run_key())
    home = Path.home() if home is None else home
    if platform == "darwin":
        from claude_usage_gauge.desktop.autostart._macos import LaunchAgent, allow_label_in_launchd

        return LaunchAgent(command, home=home, allow_label=allow_label_in_launchd)
    from claude_usage_gauge.desktop.app_icon import icon_search_dirs
    from claude_usage_gauge.desktop.autostart._linux import XdgAutostart, autostart_dir, icon_file

    env = os.environ if environ is None else environ
    return XdgAutostart(
        command,
        folder=autostart_dir(home, env.get("XDG_CONFIG_HOME", "")),
        icon_path=icon_file(home, env.get("XDG_DATA_HOME", "")),
        icon_dirs=icon_search_dirs(home, env),
    )


def autostart_command(action: str) -> int:
    """Enable, disable or show start at login; print one plain sentence. 0, or 1 on failure."""
    if action not in ACTIONS:
        print(f"Unknown action {action!r}: use one of {', '.join(ACTIONS)}.", file=sys.stderr)
        return 2
    try:
        entry = autostart_for()
        status = getattr(entry, action)()
    except (OSError, ValueError) as exc:
        doing = {"enable": "turn on", "disable": "turn off", "status": "check"}[action]
        print(f"Could not {doing} start at login: {_reason(exc)}", file=sys.stderr)
        return 1
    print(describe(status))
    return 0


def describe(status: AutostartStatus) -> str:
    """Plain sentences for the user about `status`, ending with where the entry lives."""
    if status.state is AutostartState.ENABLED:
        headline = "Start at login is enabled."
    elif status.state is AutostartState.DIFFERENT:
        headline = "Start at login has an entry this program did not write."
    else:
        headline = "Start at login is disabled."
    repair = (
        f" Run `{APP_NAME} autostart enable` to repair it."
        if status.state is AutostartState.DIFFERENT
        else ""
    )
    return f"{headline} {status.detail}{repair} (Entry: {status.location})"


def _reason(exc: OSError | ValueError) -> str:
    if not isinstance(exc, OSError):
        return f"{exc}."
    where = exc.filename or "the entry's folder"
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return f"a file is in the way where a folder should be ({where})."
    if isinstance(exc, PermissionError):
        return f"permission denied ({where})."
    suffix = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{suffix}."
