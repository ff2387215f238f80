"""Start at login on Linux and other free desktops: an XDG autostart entry.

The entry is `$XDG_CONFIG_HOME/autostart/claude-usage-gauge.desktop` (by default under
~/.config). Its Exec line is written by the Desktop Entry rules: an argument with a reserved
character is double-quoted with `"`, backtick, `$` and backslash escaped; a literal `%` is
doubled; and then the whole value gets the key-file string escapes (`\\\\`, `\\n`, `\\t`,
`\\r`).
"""

from __future__ import annotations

from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.desktop.autostart._base import FileAutostart

ENTRY_NAME = f"{APP_NAME}.desktop"

_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = frozenset('"`$\\')
_GROUP = "[Desktop Entry]"


def autostart_dir(home: Path, xdg_config_home: str = "") -> Path:
    # The spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    configured = Path(xdg_config_home) if xdg_config_home else None
    base = configured if configured is not None and configured.is_absolute() else home / ".config"
    return base / "autostart"


class XdgAutostart(FileAutostart):
    def __init__(self, command: list[str], *, folder: Path) -> None:
        super().__init__(command, folder / ENTRY_NAME)

    def entry(self) -> str:
        return desktop_entry(self.command)


def desktop_entry(command: list[str]) -> str:
    """The text of our autostart entry for `command`."""
    return "\n".join(
        [
            _GROUP,
            "Type=Application",
            "Name=Claude Usage Gauge",
            "Comment=Tray gauge of your Claude 5-hour and weekly usage",
            f"Exec={join_exec(command)}",
            f"Icon={APP_NAME}",
            "Terminal=false",
            "Categories=Utility;",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def quote_exec_arg(arg: str) -> str:
    """One argument in Exec syntax, before the key-file escapes."""
    # Other blank or unprintable characters are quoted too, so no reader trims or splits on them.
    if arg and arg.isprintable() and not (set(arg) & _RESERVED):
        return arg.replace("%", "%%")
    inner = "".join(f"\\{ch}" if ch in _ESCAPED_IN_QUOTES else ch for ch in arg)
    return '"' + inner.replace("%", "%%") + '"'


def join_exec(command: list[str]) -> str:
    """The Exec value as it goes in the file: quoted arguments, then key-file escapes."""
    return _escape_value(" ".join(quote_exec_arg(arg) for arg in command))


def _escape_value(text: str) -> str:
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    # A leading space would be trimmed by readers; the spec's `\s` keeps it.
    return "\\s" + out[1:] if out.startswith(" ") else out
