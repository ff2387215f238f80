"""`statusline --format` as Claude Code runs it: a template we cannot use is told once on stderr
(for the person who runs the command to try it), and the status line still shows, exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_usage_gauge.testing import claude_code
from tests.support.cli_home import CliHome, closed_port

FEED = json.dumps(claude_code.statusline_input(51.0, 15.0))
DEFAULT_START = "5h 51% · 7d 15% · resets "
KNOWN = "Known fields: {five_hour}, {seven_day}, {five_hour_resets}, {seven_day_resets}, {stale}."


@pytest.fixture
def home(tmp_path: Path) -> CliHome:
    return CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")


def test_an_unknown_field_is_told_once_and_the_line_still_shows(home: CliHome) -> None:
    # Two unknown names, one of them twice: still one sentence, each name once.
    proc = home.run("statusline", "--format", "{nope} {five_hour}% {nope} {weekly}", input=FEED)

    assert proc.returncode == 0
    assert proc.stdout.startswith(DEFAULT_START)
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == (
        "claude-usage-gauge statusline: --format: unknown fields {nope}, {weekly}; "
        f"the default line is shown. {KNOWN}\n"
    )
    home.assert_clean(proc)


def test_an_unknown_field_is_told_even_before_there_are_numbers(home: CliHome) -> None:
    # Claude Code's first refresh of a session carries no numbers: nothing to print, but the
    # person trying the template learns about it at once.
    feed = json.dumps(claude_code.statusline_input(rate_limits=False))
    proc = home.run("statusline", "--format", "5h {five}", input=feed)

    assert proc.returncode == 0
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert "unknown field {five};" in proc.stderr


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{five_hour", "expected '}' before end of string"),
        ("{0}", "Format string contains positional fields"),
        ("{five_hour:d}", "Unknown format code 'd'"),
    ],
)
def test_a_broken_template_is_told_once(home: CliHome, template: str, reason: str) -> None:
    proc = home.run("statusline", "--format", template, input=FEED)

    assert proc.returncode == 0
    assert proc.stdout.startswith(DEFAULT_START)
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("claude-usage-gauge statusline: --format could not be used (")
    assert reason in proc.stderr


def test_a_name_with_a_control_character_is_shown_escaped(home: CliHome) -> None:
    proc = home.run("statusline", "--format", "{a\x1b]0;x\x07}", input=FEED)

    assert proc.returncode == 0
    assert "\x1b" not in proc.stderr
    assert "\x07" not in proc.stderr
    assert "unknown field {a\\x1b]0;x\\x07}" in proc.stderr


def test_a_good_template_says_nothing_on_stderr(home: CliHome) -> None:
    proc = home.run("statusline", "--format", "S{five_hour}% W{seven_day}%{stale}", input=FEED)

    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "S51% W15%\n", "")
