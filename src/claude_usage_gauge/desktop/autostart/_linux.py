"""Start at login on Linux and other free desktops: an XDG autostart entry.

The entry is `$XDG_CONFIG_HOME/autostart/claude-usage-gauge.desktop` (by default under
~/.config). Its Exec line is written, and read back, by the Desktop Entry rules: an argument
with a reserved character is double-quoted with `"`, backtick, `$` and backslash escaped; a
literal `%` is doubled; and then the whole value gets the key-file string escapes (`\\\\`,
`\\n`, `\\t`, `\\r`), which come off first when reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.desktop.autostart._base import (
    AutostartStatus,
    FileAutostart,
    write_shared_file,
)

ENTRY_NAME = f"{APP_NAME}.desktop"

_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = frozenset('"`$\\')
_GROUP = "[Desktop Entry]"


def autostart_dir(home: Path, environ: Mapping[str, str]) -> Path:
    # The spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    configured = environ.get("XDG_CONFIG_HOME", "")
    base = Path(configured) if configured and Path(configured).is_absolute() else home / ".config"
    return base / "autostart"


class XdgAutostart(FileAutostart):
    def __init__(self, command: list[str], *, home: Path, environ: Mapping[str, str]) -> None:
        super().__init__(command, autostart_dir(home, environ) / ENTRY_NAME)

    def enable(self) -> AutostartStatus:
        write_shared_file(self.path, desktop_entry(self.command).encode("utf-8"))
        return self.status()

    def status(self) -> AutostartStatus:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return self._absent()
        except UnicodeDecodeError:
            return self._judge(None)
        keys = read_desktop_entry(text)
        # Both switches turn an entry off without removing it; enabling again rewrites it.
        if keys.get("Hidden") == "true" or keys.get("X-GNOME-Autostart-enabled") == "false":
            return self._absent("The entry is there but turned off.")
        exec_line = keys.get("Exec")
        if exec_line is None:
            return self._judge(None)
        try:
            found = split_exec(exec_line)
        except ValueError:
            return self._judge(None)
        return self._judge(found or None)


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


def split_exec(value: str) -> list[str]:
    """The arguments of an Exec value as read from the file. Raises ValueError on bad quoting.

    Field codes (`%f`, `%u`, ...) are dropped, as a launcher with no files to open would do.
    """
    text = _unescape_value(value)
    args: list[str] = []
    current: list[str] = []
    in_arg = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            in_arg = True
            i += 1
            while True:
                if i >= len(text):
                    raise ValueError("unterminated quote in Exec")
                ch = text[i]
                if ch == '"':
                    i += 1
                    break
                if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPED_IN_QUOTES:
                    current.append(text[i + 1])
                    i += 2
                    continue
                if ch == "%" and text[i + 1 : i + 2] == "%":
                    current.append("%")
                    i += 2
                    continue
                current.append(ch)
                i += 1
            continue
        if ch in " \t":
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
            i += 1
            continue
        if ch == "%":
            code = text[i + 1 : i + 2]
            i += 2
            if code == "%":
                current.append("%")
                in_arg = True
            continue
        current.append(ch)
        in_arg = True
        i += 1
    if in_arg:
        args.append("".join(current))
    return args


def read_desktop_entry(text: str) -> dict[str, str]:
    """The raw (still escaped) keys of the [Desktop Entry] group; later duplicates are ignored."""
    keys: dict[str, str] = {}
    in_group = False
    # Lines end at "\n" only: str.splitlines would also break inside a value at form feeds etc.
    for raw in text.split("\n"):
        line = raw.rstrip("\r").lstrip(" \t")
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            in_group = line.rstrip(" \t") == _GROUP
            continue
        if in_group and "=" in line:
            key, _, value = line.partition("=")
            keys.setdefault(key.rstrip(" \t"), value.lstrip(" \t"))
    return keys


_VALUE_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def _escape_value(text: str) -> str:
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    # A leading space would be trimmed by readers; the spec's `\s` keeps it.
    return "\\s" + out[1:] if out.startswith(" ") else out


def _unescape_value(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _VALUE_ESCAPES:
            out.append(_VALUE_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
