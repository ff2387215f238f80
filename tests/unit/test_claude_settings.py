"""Installing the bridge into Claude Code's settings.json, and taking it out again.

The round trips run the real CLI in a subprocess against real files in a temporary home; the
pure planning functions are checked directly.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.claude_settings import (
    SettingsError,
    backup,
    bridge_command_line,
    is_bridge_command,
    plan_install,
    plan_uninstall,
    read_settings,
    render,
    wrapped_command,
    write_settings,
)
from claude_usage_gauge.statusline.then import THEN_TIMEOUT_ENV

USER_COMMAND = "bash ~/.claude/my status.sh --color 'a b'"
PROGRAM = ["/opt/venv/bin/claude-usage-gauge"]
SETTINGS = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "model": "opus",
    "permissions": {"allow": ["Bash(git status)"], "deny": []},
    "env": {"FOO": "bär"},
    "statusLine": {"type": "command", "command": USER_COMMAND, "padding": 0},
    "includeCoAuthoredBy": False,
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CLAUDE_CONFIG_DIR", THEN_TIMEOUT_ENV) and not k.startswith("XDG_")
    }
    environ.update(
        HOME=str(home),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        CLAUDE_USAGE_GAUGE_API_BASE="http://127.0.0.1:9",
    )
    return environ


def settings_file(env: dict[str, str]) -> Path:
    return ClaudeHome.from_environ(env).config_dir / "settings.json"


def write_json(path: Path, data: object, mode: int = 0o644) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, indent=2).encode()
    path.write_bytes(raw)
    path.chmod(mode)
    return raw


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge", "statusline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.claude-usage-gauge-*.bak"))


def statusline_json() -> bytes:
    now = datetime.now(UTC)
    return json.dumps(
        {
            "session_id": "6f1c2a9e",
            "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
            "workspace": {"current_dir": "/tmp", "project_dir": "/tmp"},
            "cost": {"total_cost_usd": 0.01},
            "rate_limits": {
                "five_hour": {
                    "used_percentage": 51,
                    "resets_at": int((now + timedelta(hours=2)).timestamp()),
                },
                "seven_day": {
                    "used_percentage": 15,
                    "resets_at": int((now + timedelta(days=3)).timestamp()),
                },
            },
        }
    ).encode()


# -- the real CLI ---------------------------------------------------------------------------


def test_install_wraps_then_uninstall_restores(env: dict[str, str]) -> None:
    path = settings_file(env)
    write_json(path, SETTINGS, mode=0o640)

    result = cli(env, "install")
    assert result.returncode == 0, result.stderr
    assert "Installed in" in result.stdout
    assert "Backup of the previous settings:" in result.stdout
    installed = json.loads(path.read_text())
    assert {k: v for k, v in installed.items() if k != "statusLine"} == {
        k: v for k, v in SETTINGS.items() if k != "statusLine"
    }
    assert list(installed) == list(SETTINGS)
    entry = installed["statusLine"]
    assert entry["type"] == "command"
    assert entry["padding"] == 0
    words = shlex.split(entry["command"])
    state_dir = str(Path(env["XDG_STATE_HOME"]) / "claude-usage-gauge")
    assert words[-5:] == ["statusline", "--state-dir", state_dir, "--then", USER_COMMAND]
    assert Path(words[0]).is_absolute()
    assert is_bridge_command(entry["command"])
    assert path.stat().st_mode & 0o777 == 0o640

    saved = backups(path)
    assert len(saved) == 1
    assert str(saved[0]) in result.stdout
    assert json.loads(saved[0].read_text()) == SETTINGS
    # A copy of the user's settings, private whatever the original's mode.
    assert saved[0].stat().st_mode & 0o777 == 0o600

    result = cli(env, "uninstall")
    assert result.returncode == 0, result.stderr
    assert USER_COMMAND in result.stdout
    assert json.loads(path.read_text()) == SETTINGS
    assert path.stat().st_mode & 0o777 == 0o640
    assert len(backups(path)) == 2

    result = cli(env, "uninstall")
    assert result.returncode == 0
    assert "Not installed" in result.stdout
    assert len(backups(path)) == 2


def test_installing_twice_is_a_no_op(env: dict[str, str]) -> None:
    path = settings_file(env)
    write_json(path, {"model": "opus"})
    assert cli(env, "install").returncode == 0
    after_first = path.read_bytes()
    result = cli(env, "install")
    assert result.returncode == 0
    assert "Already installed" in result.stdout
    assert path.read_bytes() == after_first
    assert len(backups(path)) == 1


def test_uninstall_without_a_user_command_removes_the_entry(env: dict[str, str]) -> None:
    path = settings_file(env)
    write_json(path, {"model": "opus"})
    assert cli(env, "install").returncode == 0
    assert "statusLine" in json.loads(path.read_text())
    result = cli(env, "uninstall")
    assert result.returncode == 0
    assert json.loads(path.read_text()) == {"model": "opus"}


def test_dry_run_writes_nothing(env: dict[str, str]) -> None:
    path = settings_file(env)
    before = write_json(path, SETTINGS)
    result = cli(env, "install", "--dry-run")
    assert result.returncode == 0
    assert "nothing was written" in result.stdout
    assert f"--- {path}" in result.stdout
    added = [line for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert any("statusline --state-dir" in line and "--then" in line for line in added)
    assert path.read_bytes() == before
    assert backups(path) == []


def test_invalid_json_is_refused_and_untouched(env: dict[str, str]) -> None:
    path = settings_file(env)
    path.parent.mkdir(parents=True)
    broken = b'{"model": "opus",\n  // a comment\n}\n'
    path.write_bytes(broken)
    for action in ("install", "uninstall"):
        result = cli(env, action)
        assert result.returncode == 1
        assert "is not valid JSON (line 2" in result.stderr
        assert "left unchanged" in result.stderr
        assert "Traceback" not in result.stderr
    assert path.read_bytes() == broken
    assert backups(path) == []


def test_missing_file_is_created_private(env: dict[str, str]) -> None:
    env["CLAUDE_CONFIG_DIR"] = str(Path(env["HOME"]) / "elsewhere" / "claude")
    path = settings_file(env)
    result = cli(env, "install")
    assert result.returncode == 0, result.stderr
    assert "no backup needed" in result.stdout
    data = json.loads(path.read_text())
    assert list(data) == ["statusLine"]
    assert data["statusLine"]["type"] == "command"
    assert path.stat().st_mode & 0o777 == 0o600
    assert not (Path(env["HOME"]) / ".claude").exists()


def test_installed_command_runs_as_claude_code_runs_it(env: dict[str, str]) -> None:
    """Claude Code runs the configured string through the shell with the JSON on stdin."""
    path = settings_file(env)
    reader = f"{shlex.quote(sys.executable)} -c " + shlex.quote(
        'import sys, json; print(json.load(sys.stdin)["model"]["display_name"])'
    )
    write_json(path, {"statusLine": {"type": "command", "command": reader}})
    assert cli(env, "install").returncode == 0
    command = json.loads(path.read_text())["statusLine"]["command"]
    result = subprocess.run(  # noqa: S602 - exactly what Claude Code does with the string
        command,
        shell=True,
        input=statusline_json(),
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.decode().startswith("Opus  5h 51% · 7d 15% · resets ")
    assert result.stderr == b""


def test_a_symlinked_settings_file_stays_a_symlink(env: dict[str, str], tmp_path: Path) -> None:
    """Dotfile managers link settings.json from elsewhere: edit the target, keep the link."""
    real = tmp_path / "dotfiles" / "claude-settings.json"
    write_json(real, {"model": "opus"})
    path = settings_file(env)
    path.parent.mkdir(parents=True)
    path.symlink_to(real)
    assert cli(env, "install").returncode == 0
    assert path.is_symlink()
    assert "statusLine" in json.loads(real.read_text())
    assert len(backups(path)) == 1


# -- the planning, directly -------------------------------------------------------------------


def test_plan_install_fresh_and_wrapped() -> None:
    fresh = plan_install({}, PROGRAM, Path("s.json"))
    assert fresh.data == {
        "statusLine": {"type": "command", "command": "/opt/venv/bin/claude-usage-gauge statusline"}
    }
    wrapped = plan_install({"statusLine": {"command": "  echo hi  "}}, PROGRAM, Path("s.json"))
    assert wrapped.data is not None
    entry = wrapped.data["statusLine"]
    assert isinstance(entry, dict)
    assert wrapped_command(str(entry["command"])) == "  echo hi  "


@pytest.mark.parametrize(
    "command",
    [
        "/opt/venv/bin/claude-usage-gauge statusline",
        "'/Users/a b/venv/bin/claude-usage-gauge' statusline --then 'x'",
        # How shlex.join writes a Windows path (quoted, so the backslashes stay).
        "'C:\\Tools\\claude-usage-gauge.exe' statusline",
        "/usr/bin/python3 -m claude_usage_gauge statusline --format '{five_hour}'",
    ],
)
def test_recognises_our_commands(command: str) -> None:
    assert is_bridge_command(command)


@pytest.mark.parametrize(
    "command",
    [
        "echo statusline",
        "statusline",
        "my-claude-usage-gauge-fork statusline",
        "bash -c 'claude-usage-gauge statusline'",
        "unbalanced 'quote",
        "",
    ],
)
def test_does_not_claim_other_commands(command: str) -> None:
    assert not is_bridge_command(command)


def test_wrapped_command_forms() -> None:
    assert (
        wrapped_command(bridge_command_line(PROGRAM, "/st", "echo 'hi there'")) == "echo 'hi there'"
    )
    assert wrapped_command("claude-usage-gauge statusline --then=echo") == "echo"
    assert wrapped_command("claude-usage-gauge statusline") is None
    assert wrapped_command("someone-else --then echo") is None


def test_uninstall_keeps_the_users_other_entry_keys() -> None:
    data = {
        "statusLine": {"padding": 2, "type": "command", "command": "claude-usage-gauge statusline"}
    }
    plan = plan_uninstall(data, PROGRAM, Path("s.json"))
    assert plan.data == {"statusLine": {"padding": 2}}


@pytest.mark.parametrize(
    "entry",
    [
        "echo hi",
        ["echo", "hi"],
        {"type": "something-else", "command": "echo hi"},
        {"type": "command", "command": ["echo"]},
    ],
)
def test_an_entry_we_do_not_understand_is_refused(entry: object) -> None:
    with pytest.raises(SettingsError, match="left unchanged"):
        plan_install({"statusLine": entry}, PROGRAM, Path("s.json"))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"[1, 2]", "does not hold a JSON object"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b'{"a": 1,}', "not valid JSON"),
    ],
)
def test_read_refuses_what_is_not_a_settings_object(tmp_path: Path, raw: bytes, match: str) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(raw)
    with pytest.raises(SettingsError, match=match):
        read_settings(path)


def test_read_accepts_empty_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b"")
    assert read_settings(path).data == {}
    path.write_bytes(b'\xef\xbb\xbf{"model": "opus"}')
    assert read_settings(path).data == {"model": "opus"}


def test_write_refuses_a_file_changed_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"model": "opus"}')
    current = read_settings(path)
    path.write_text('{"model": "sonnet"}')  # Claude Code saved something in between
    with pytest.raises(SettingsError, match="changed while"):
        write_settings(current, render({"statusLine": {}}))
    assert json.loads(path.read_text()) == {"model": "sonnet"}
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_backups_in_the_same_second_do_not_collide(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{}")
    path.chmod(0o600)
    current = read_settings(path)
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    first, second = backup(current, moment), backup(current, moment)
    assert first is not None
    assert second is not None
    assert first.name == "settings.json.claude-usage-gauge-20300102T030405Z.bak"
    assert second.name == "settings.json.claude-usage-gauge-20300102T030405Z-1.bak"
    assert second.stat().st_mode & 0o777 == 0o600
