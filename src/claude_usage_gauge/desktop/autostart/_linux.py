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
from claude_usage_gauge.desktop.autostart._base import (
    AutostartStatus,
    FileAutostart,
    remove_file,
    write_shared_file,
)

ENTRY_NAME = f"{APP_NAME}.desktop"

_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = frozenset('"`$\\')
_GROUP = "[Desktop Entry]"


def autostart_dir(home: Path, xdg_config_home: str = "") -> Path:
    # The spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    configured = Path(xdg_config_home) if xdg_config_home else None
    base = configured if configured is not None and configured.is_absolute() else home / ".config"
    return base / "autostart"


def icon_file(home: Path, xdg_data_home: str = "") -> Path:
    """Our own copy of the app icon, for an entry whose named icon no theme holds (a run from a
    clone or a pip install; a native package installs the icon into hicolor)."""
    configured = Path(xdg_data_home) if xdg_data_home else None
    base = (
        configured
        if configured is not None and configured.is_absolute()
        else home / ".local" / "share"
    )
    return base / APP_NAME / f"{APP_NAME}.png"


class XdgAutostart(FileAutostart):
    """The entry names the icon (`Icon=claude-usage-gauge`) where an icon theme holds it, and
    otherwise points at our own copy by its absolute path, written on enable and removed on
    disable: no write into an icon theme shared with other apps, whose cache
    (icon-theme.cache) would hide a new file until it is rebuilt."""

    def __init__(
        self,
        command: list[str],
        *,
        folder: Path,
        icon_path: Path | None = None,
        icon_dirs: list[Path] | None = None,
    ) -> None:
        super().__init__(command, folder / ENTRY_NAME)
        self.icon_path = icon_path
        self.icon_dirs = icon_dirs or []

    def _own_icon(self) -> Path | None:
        """Our copy's path when the entry needs it (the name is found nowhere)."""
        from claude_usage_gauge.desktop.app_icon import named_icon_installed

        if self.icon_path is None or named_icon_installed(self.icon_dirs):
            return None
        return self.icon_path

    def entry(self) -> str:
        own = self._own_icon()
        return desktop_entry(self.command, icon=str(own) if own is not None else APP_NAME)

    def enable(self) -> AutostartStatus:
        own = self._own_icon()
        if own is not None:
            from claude_usage_gauge.desktop.app_icon import app_icon_png

            write_shared_file(own, app_icon_png())
        elif self.icon_path is not None:
            remove_file(self.icon_path)  # a copy an earlier enable needed; the theme has it now
        return super().enable()

    def disable(self) -> AutostartStatus:
        if self.icon_path is not None:
            remove_file(self.icon_path)
        return super().disable()


def desktop_entry(command: list[str], *, icon: str = APP_NAME) -> str:
    """The text of our autostart entry for `command`, showing `icon` (a name or a path)."""
    return "\n".join(
        [
            _GROUP,
            "Type=Application",
            "Name=Claude Usage Gauge",
            "Comment=Tray gauge of your Claude 5-hour and weekly usage",
            f"Exec={join_exec(command)}",
            f"Icon={_escape_value(icon)}",
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
