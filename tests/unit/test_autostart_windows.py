"""The Run-key entry through `FakeRunKey`, and the command-line quoting both ways (any OS)."""

from __future__ import annotations

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
    join_command_line,
    split_command_line,
)

GUI = r"C:\Program Files\Claude Usage Gauge\claude-usage-gauge-gui.exe"


def entry(registry: FakeRunKey, command: list[str] | None = None) -> RunKeyAutostart:
    made = autostart_for("win32", registry=registry, command=command or [GUI])
    assert isinstance(made, RunKeyAutostart)
    return made


def test_enable_writes_the_quoted_path_under_our_value_name() -> None:
    registry = FakeRunKey()

    status = entry(registry).enable()

    assert registry.values == {"claude-usage-gauge": f'"{GUI}"'}
    assert status.state is AutostartState.ENABLED
    assert status.command == [GUI]
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


def test_path_case_and_slashes_do_not_matter_but_another_program_does() -> None:
    registry = FakeRunKey({"Claude-Usage-Gauge": f'"{GUI.upper().replace(chr(92), "/")}"'})
    auto = entry(registry)
    assert auto.status().state is AutostartState.ENABLED

    registry.values = {VALUE_NAME: r'"C:\Users\me\old\claude-usage-gauge-gui.exe" tray'}
    found = auto.status()
    assert found.state is AutostartState.OTHER_PROGRAM
    assert found.command == [r"C:\Users\me\old\claude-usage-gauge-gui.exe", "tray"]

    assert auto.enable().state is AutostartState.ENABLED
    assert registry.values == {VALUE_NAME: f'"{GUI}"'}


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

    value = registry.values[VALUE_NAME]
    assert value == (
        r'"C:\Users\Ann O Neil\py\pythonw.exe" -m claude_usage_gauge "C:\a b\\\\" "q\"t"'
    )
    assert entry(registry, command).status().state is AutostartState.ENABLED


def test_a_denied_registry_raises_oserror() -> None:
    auto = entry(FakeRunKey(fail=True))

    with pytest.raises(PermissionError):
        auto.enable()


@pytest.mark.skipif(sys.platform == "win32", reason="the real registry is there on Windows")
def test_the_real_registry_is_not_reached_for_off_windows() -> None:
    with pytest.raises(OSError, match="only there on Windows"):
        autostart_for("win32", command=[GUI])


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        # The C runtime's documented examples, after a program name.
        (r'prog "a b c" d e', ["prog", "a b c", "d", "e"]),
        (r'prog "ab\"c" "\\" d', ["prog", 'ab"c', "\\", "d"]),
        (r'prog a\\\b d"e f"g h', ["prog", r"a\\\b", "de fg", "h"]),
        (r"prog a\\\"b c d", ["prog", r"a\"b", "c", "d"]),
        (r'prog a\\\\"b c" d e', ["prog", r"a\\b c", "d", "e"]),
        (r'prog "a ""quoted"" word"', ["prog", 'a "quoted" word']),
        # The program name: backslashes are plain, and a quote only ends it.
        (r'"C:\Program Files\x\" y', ["C:\\Program Files\\x\\", "y"]),
        (r"C:\dir\prog.exe   arg ", [r"C:\dir\prog.exe", "arg"]),
        ('"unterminated', ["unterminated"]),
        ("   ", []),
        ('prog ""', ["prog", ""]),
    ],
)
def test_split_command_line(line: str, argv: list[str]) -> None:
    assert split_command_line(line) == argv


def test_a_program_path_with_a_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="double quote"):
        join_command_line(['C:\\a"b.exe'])


program = st.text(st.characters(codec="utf-8", exclude_characters='\x00"'), min_size=1)
argument = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


@given(program, st.lists(argument, max_size=4))
def test_join_then_split_is_the_identity(name: str, args: list[str]) -> None:
    command = [name, *args]
    assert split_command_line(join_command_line(command)) == command
