r"""Start at login on Windows: a value under the user's Run key.

The value is "claude-usage-gauge" under HKCU\Software\Microsoft\Windows\CurrentVersion\Run. It
holds a command line, quoted the way the C runtime splits it back into arguments (a path with
spaces, as under "Program Files", is double-quoted).
The registry sits behind `RegistryKey` (also used for the taskbar theme), so the logic is tested
anywhere with `FakeRegistryKey`.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Protocol

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.desktop.autostart._base import Autostart, AutostartStatus

VALUE_NAME = APP_NAME
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


_NOT_WINDOWS = "the Windows registry is only there on Windows"

# What a value can hold here: REG_SZ/REG_EXPAND_SZ as text, REG_DWORD as a number.
RegistryValue = str | int


class RegistryKey(Protocol):
    """One key under HKEY_CURRENT_USER: the Run key, and the taskbar theme's Personalize key."""

    def get(self, name: str) -> RegistryValue | None:
        """The value (text or number), or None when there is no such value."""
        ...

    def set(self, name: str, value: str) -> None:
        """Create or replace a string value. Raises OSError when it cannot."""
        ...

    def delete(self, name: str) -> None:
        """Remove the value; a missing value is not an error."""
        ...


# The Run key is one such key; the name stays for the callers that know it by it.
RunKey = RegistryKey


class WinRegKey:
    r"""HKCU\`path` through winreg (imported on use: it only exists on Windows)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def get(self, name: str) -> RegistryValue | None:
        if sys.platform != "win32":
            raise OSError(_NOT_WINDOWS)
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, self.path) as key:
                value, kind = winreg.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        if kind == winreg.REG_EXPAND_SZ and isinstance(value, str):
            return str(winreg.ExpandEnvironmentStrings(value))
        return value if isinstance(value, str | int) else None

    def set(self, name: str, value: str) -> None:
        if sys.platform != "win32":
            raise OSError(_NOT_WINDOWS)
        import winreg

        with winreg.CreateKeyEx(
            winreg.HKEY_CURRENT_USER, self.path, 0, winreg.KEY_SET_VALUE
        ) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def delete(self, name: str) -> None:
        if sys.platform != "win32":
            raise OSError(_NOT_WINDOWS)
        import winreg

        try:
            with winreg.OpenKey(
                winreg.HKEY_CURRENT_USER, self.path, 0, winreg.KEY_SET_VALUE
            ) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            return


class WinRegRunKey(WinRegKey):
    r"""HKCU\...\Run."""

    def __init__(self) -> None:
        super().__init__(RUN_KEY)


class FakeRegistryKey:
    """An in-memory key for tests: `fail` makes writes raise like a denied registry, `fail_reads`
    makes reads raise too."""

    def __init__(
        self,
        values: dict[str, RegistryValue] | None = None,
        *,
        fail: bool = False,
        fail_reads: bool = False,
    ) -> None:
        self.values: dict[str, RegistryValue] = dict(values or {})
        self.fail = fail
        self.fail_reads = fail_reads

    def get(self, name: str) -> RegistryValue | None:
        if self.fail_reads:
            raise PermissionError(13, "Access is denied")
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


FakeRunKey = FakeRegistryKey


class RunKeyAutostart(Autostart):
    def __init__(self, command: list[str], *, registry: RunKey) -> None:
        super().__init__(command)
        self.registry = registry

    @property
    def location(self) -> str:
        return rf"HKEY_CURRENT_USER\{RUN_KEY}, value {VALUE_NAME!r}"

    def entry(self) -> str:
        # The C runtime's quoting, which is how Windows splits the line back into arguments.
        return subprocess.list2cmdline(self.command)

    def _read(self) -> str | None:
        value = self.registry.get(VALUE_NAME)
        return value if isinstance(value, str) else None

    def _write(self, entry: str) -> None:
        self.registry.set(VALUE_NAME, entry)

    def disable(self) -> AutostartStatus:
        if self.registry.get(VALUE_NAME) is None:
            return self._absent("There was no entry to remove.")
        self.registry.delete(VALUE_NAME)
        return self._absent("The entry was removed.")


def default_run_key() -> RunKey:
    if sys.platform != "win32":
        raise OSError(_NOT_WINDOWS)
    return WinRegRunKey()
