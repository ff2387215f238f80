r"""Start at login on Windows: a value under the user's Run key.

The value is "claude-usage-gauge" under HKCU\Software\Microsoft\Windows\CurrentVersion\Run. It
holds a command line, so the program path is always double-quoted (it may contain spaces, as
under "Program Files") and the arguments are quoted the way the C runtime splits them back.
The registry sits behind `RunKey`, so the logic is tested anywhere with `FakeRunKey`.
"""

from __future__ import annotations

import ntpath
import sys
from typing import Protocol

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.desktop.autostart._base import Autostart, AutostartStatus

VALUE_NAME = APP_NAME
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


_NOT_WINDOWS = "the Windows registry is only there on Windows"


class RunKey(Protocol):
    def get(self, name: str) -> str | None:
        """The value's text, or None when there is no such value."""
        ...

    def set(self, name: str, value: str) -> None:
        """Create or replace a string value. Raises OSError when it cannot."""
        ...

    def delete(self, name: str) -> None:
        """Remove the value; a missing value is not an error."""
        ...


class WinRegRunKey:
    r"""HKCU\...\Run through winreg (imported on use: it only exists on Windows)."""

    def get(self, name: str) -> str | None:
        if sys.platform != "win32":
            raise OSError(_NOT_WINDOWS)
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                value, kind = winreg.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        if kind == winreg.REG_EXPAND_SZ and isinstance(value, str):
            return str(winreg.ExpandEnvironmentStrings(value))
        return value if isinstance(value, str) else None

    def set(self, name: str, value: str) -> None:
        if sys.platform != "win32":
            raise OSError(_NOT_WINDOWS)
        import winreg

        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def delete(self, name: str) -> None:
        if sys.platform != "win32":
            raise OSError(_NOT_WINDOWS)
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            return


class FakeRunKey:
    """An in-memory Run key for tests; `fail` makes every write raise like a denied registry."""

    def __init__(self, values: dict[str, str] | None = None, *, fail: bool = False) -> None:
        self.values: dict[str, str] = dict(values or {})
        self.fail = fail

    def get(self, name: str) -> str | None:
        # Registry value names are case-insensitive.
        for key, value in self.values.items():
            if key.lower() == name.lower():
                return value
        return None

    def set(self, name: str, value: str) -> None:
        self._check()
        self.delete(name)
        self.values[name] = value

    def delete(self, name: str) -> None:
        self._check()
        for key in [k for k in self.values if k.lower() == name.lower()]:
            del self.values[key]

    def _check(self) -> None:
        if self.fail:
            raise PermissionError(13, "Access is denied")


class RunKeyAutostart(Autostart):
    def __init__(self, command: list[str], *, registry: RunKey) -> None:
        super().__init__(command)
        self.registry = registry

    @property
    def location(self) -> str:
        return rf"HKEY_CURRENT_USER\{RUN_KEY}, value {VALUE_NAME!r}"

    def enable(self) -> AutostartStatus:
        self.registry.set(VALUE_NAME, join_command_line(self.command))
        return self.status()

    def disable(self) -> AutostartStatus:
        if self.registry.get(VALUE_NAME) is None:
            return self._absent("There was no entry to remove.")
        self.registry.delete(VALUE_NAME)
        return self._absent("The entry was removed.")

    def status(self) -> AutostartStatus:
        value = self.registry.get(VALUE_NAME)
        if value is None:
            return self._absent()
        found = split_command_line(value)
        return self._judge(found or None, same=same_windows_command)


def same_windows_command(found: list[str], wanted: list[str]) -> bool:
    """Windows paths compare without regard to case or slash direction; arguments exactly."""
    if len(found) != len(wanted):
        return False
    return ntpath.normcase(found[0]) == ntpath.normcase(wanted[0]) and found[1:] == wanted[1:]


def join_command_line(command: list[str]) -> str:
    """A command line that `split_command_line` (and the C runtime) splits back into `command`."""
    program, *args = command
    if '"' in program:
        # Not a valid Windows path; the program name has no escape for it.
        raise ValueError("a program path cannot contain a double quote")
    return " ".join([f'"{program}"', *(_quote_arg(arg) for arg in args)])


def _quote_arg(arg: str) -> str:
    if arg and not any(ch in arg for ch in ' \t\n\v"'):
        return arg
    out: list[str] = ['"']
    backslashes = 0
    for ch in arg:
        if ch == "\\":
            backslashes += 1
            continue
        if ch == '"':
            # Backslashes before a quote are doubled, and the quote itself escaped.
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + ch)
        backslashes = 0
    # Backslashes before the closing quote are doubled so they do not escape it.
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def split_command_line(line: str) -> list[str]:
    """Split a command line the way the Microsoft C runtime builds argv.

    The program name is special: it runs to the next quote if it starts with one, else to the
    next space or tab, and backslashes in it are plain characters. In later arguments, 2n
    backslashes before a quote make n backslashes and the quote toggles quoting; 2n+1 make n
    backslashes and a literal quote; and `""` inside quotes is a literal quote.
    """
    args: list[str] = []
    i, n = 0, len(line)
    while i < n and line[i] in " \t":
        i += 1
    if i >= n:
        return args
    if line[i] == '"':
        end = line.find('"', i + 1)
        end = n if end < 0 else end
        args.append(line[i + 1 : end])
        i = end + 1
    else:
        start = i
        while i < n and line[i] not in " \t":
            i += 1
        args.append(line[start:i])
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            return args
        current: list[str] = []
        quoted = False
        while i < n:
            ch = line[i]
            if ch == "\\":
                start = i
                while i < n and line[i] == "\\":
                    i += 1
                count = i - start
                if i < n and line[i] == '"':
                    current.append("\\" * (count // 2))
                    if count % 2:
                        current.append('"')
                        i += 1
                    continue
                current.append("\\" * count)
                continue
            if ch == '"':
                if quoted and i + 1 < n and line[i + 1] == '"':
                    current.append('"')
                    i += 2
                    continue
                quoted = not quoted
                i += 1
                continue
            if ch in " \t" and not quoted:
                break
            current.append(ch)
            i += 1
        args.append("".join(current))


def default_run_key() -> RunKey:
    if sys.platform != "win32":
        raise OSError(_NOT_WINDOWS)
    return WinRegRunKey()
