"""The Run-key entry through `FakeRunKey`, and the command-line quoting both ways (any OS)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_usage_gauge.desktop.autostart import AutostartState, autostart_for
from claude_usage_gauge.desktop.autostart._windows import (
    RUN_KEY,
    VALUE_NAME,
    FakeRunKey,
    RunKeyAutostart,
)
from tests.support.windows_argv import split_command_line

GUI = r"C:\Program Files\Claude Usage Gauge\claude-usage-gauge-gui.exe"


def entry(registry: FakeRunKey, command: list[str] | None = None) -> RunKeyAutostart:
    made = autostart_for("win32", registry=registry, command=command or [GUI])
    assert isinstance(made, RunKeyAutostart)
    return made


def test_enable_writes_the_quoted_path_under_our_value_name() -> None:
    registry = FakeRunKey()

    status = entry(registry).enable()

    assert registry.values == {"claude-usage-gauge": subprocess.list2cmdline([GUI])}
    assert split_command_line(str(registry.values["claude-usage-gauge"])) == [GUI]
    assert status.state is AutostartState.ENABLED
    assert GUI in status.detail
    assert RUN_KEY in status.location
    assert VALUE_NAME in status.location


def test_round_trip_enable_status_disable() -> None:
    registry = FakeRunKey({"OtherApp": r"C:\other.exe"})
    auto = entry(registry)
    assert auto.status().state is AutostartState.DISABLED

    auto.enable()
    assert auto.status().state is AutostartState.ENABLED

    assert auto.disable().detail == "The entry was removed."
    assert auto.status().state is AutostartState.DISABLED
    assert auto.disable().detail == "There was no entry to remove."
    assert registry.values == {"OtherApp": r"C:\other.exe"}


def test_a_value_for_another_program_is_different_and_enable_repairs_it() -> None:
    registry = FakeRunKey({"Claude-Usage-Gauge": subprocess.list2cmdline([GUI])})
    auto = entry(registry)
    assert auto.status().state is AutostartState.ENABLED  # value names are case-insensitive

    registry.values = {VALUE_NAME: r'"C:\Users\me\old\claude-usage-gauge-gui.exe" tray'}
    found = auto.status()
    assert found.state is AutostartState.DIFFERENT

    assert auto.enable().state is AutostartState.ENABLED
    assert registry.values == {VALUE_NAME: subprocess.list2cmdline([GUI])}


def test_a_python_command_with_arguments_round_trips() -> None:
    command = [
        r"C:\Users\Ann O Neil\py\pythonw.exe",
        "-m",
        "claude_usage_gauge",
        r"C:\a b\\",
        'q"t',
    ]
    registry = FakeRunKey()

    entry(registry, command).enable()

    value = str(registry.values[VALUE_NAME])
    assert split_command_line(value) == command
    assert entry(registry, command).status().state is AutostartState.ENABLED


def test_a_denied_registry_raises_oserror() -> None:
    auto = entry(FakeRunKey(fail=True))

    with pytest.raises(PermissionError):
        auto.enable()


@pytest.mark.skipif(sys.platform == "win32", reason="the real registry is there on Windows")
def test_the_real_registry_is_not_reached_for_off_windows() -> None:
    with pytest.raises(OSError, match="only there on Windows"):
        autostart_for("win32", command=[GUI])


# A program path: no quotes (Windows forbids them) and no trailing backslash (it names a file).
program = st.text(st.characters(codec="utf-8", exclude_characters='\x00"'), min_size=1).filter(
    lambda name: not name.endswith("\\")
)
argument = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


@given(program, st.lists(argument, max_size=4))
def test_windows_splits_what_we_write_back_into_the_command(name: str, args: list[str]) -> None:
    command = [name, *args]
    value = entry(FakeRunKey(), command).entry()
    assert split_command_line(value) == command
