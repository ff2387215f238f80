"""Claude Code's hooks through the real command: `hooks install`, the `hook` Claude Code runs, and
the "out of extra usage" refusal shown beside the plan's own numbers, with its cure."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.testing.claude_code import hook_input
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok
from tests.support.cli_home import CliHome, assert_status_shape

SETTINGS: dict[str, object] = {
    "model": "opus",
    "hooks": {
        "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "say done"}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard"}]}],
    },
    "permissions": {"allow": ["Bash(ls:*)"]},
}


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI(default=ok(5.0, 18.0)) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, fake: FakeUsageAPI) -> CliHome:
    made = CliHome(tmp_path / "home", fake.url)
    made.write_credentials()
    return made


def settings_path(home: CliHome) -> Path:
    return home.claude_dir / "settings.json"


def our_commands(settings: dict[str, object], event: str) -> list[str]:
    hooks = settings["hooks"]
    assert isinstance(hooks, dict)
    return [
        entry["command"]
        for group in hooks.get(event, [])
        for entry in group["hooks"]
        if " hook " in f" {entry['command']} "
    ]


def run_hook(home: CliHome, obj: object) -> None:
    installed = json.loads(settings_path(home).read_text())
    command = shlex.split(our_commands(installed, "StopFailure")[0])
    hook_args = command[command.index("hook") :]
    proc = home.run(*hook_args, input=json.dumps(obj))
    assert proc.returncode == 0
    assert proc.stdout == ""  # Claude Code would show anything printed
    assert proc.stderr == ""


def test_install_adds_ours_keeps_everything_else_and_uninstall_takes_only_ours(
    home: CliHome,
) -> None:
    path = settings_path(home)
    path.write_text(json.dumps(SETTINGS, indent=2))

    dry = home.run("hooks", "install", "--dry-run")
    assert dry.returncode == 0
    assert "nothing was written" in dry.stdout
    assert json.loads(path.read_text()) == SETTINGS

    installed = home.run("hooks", "install")
    assert installed.returncode == 0, installed.stdout
    assert "Backup of the previous settings:" in installed.stdout
    data = json.loads(path.read_text())
    assert list(data) == list(SETTINGS)
    assert data["model"] == "opus"
    assert data["permissions"] == SETTINGS["permissions"]
    assert data["hooks"]["PreToolUse"] == SETTINGS["hooks"]["PreToolUse"]  # type: ignore[index]
    stop = data["hooks"]["Stop"]
    assert stop[0] == SETTINGS["hooks"]["Stop"][0]  # type: ignore[index]
    assert len(our_commands(data, "Stop")) == 1
    assert len(our_commands(data, "StopFailure")) == 1
    words = shlex.split(our_commands(data, "StopFailure")[0])
    assert words[-3:] == ["hook", "--state-dir", str(home.state_dir)]

    again = home.run("hooks", "install")
    assert "Already installed" in again.stdout
    assert json.loads(path.read_text()) == data

    removed = home.run("hooks", "uninstall")
    assert removed.returncode == 0, removed.stdout
    assert json.loads(path.read_text()) == SETTINGS
    home.assert_clean(dry, installed, again, removed)


@pytest.mark.parametrize(
    "content",
    ['{"hooks": []}', '{"hooks": {"StopFailure": {}}}', "{not json", '{"hooks": {"Stop": "x"}}'],
)
def test_settings_we_do_not_understand_are_left_as_they_are(home: CliHome, content: str) -> None:
    path = settings_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)

    proc = home.run("hooks", "install")

    assert proc.returncode == 1
    assert path.read_text() == content
    assert proc.stdout == ""  # the refusal is an error: on stderr
    assert "left unchanged" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert list(path.parent.glob("settings.json.*")) == []


def test_the_refusal_shows_beside_the_plans_numbers_until_a_turn_succeeds(
    home: CliHome, fake: FakeUsageAPI
) -> None:
    assert home.run("hooks", "install").returncode == 0
    home.status_json()  # the plan's own numbers: 5 % and 18 %

    run_hook(home, hook_input())

    proc, data = home.status_json()
    assert_status_shape(data)
    error = data["error"]
    assert isinstance(error, dict)
    assert error["kind"] == "out_of_extra_usage"
    event = data["claude_code"]
    assert isinstance(event, dict)
    assert event["request_id"] == "req_011CXyZAbCdEfGhIjKlMnOp"
    text = home.run("status").stdout
    assert (
        "Problem: Claude Code is refused: out of extra usage — "
        "but your plan is at 5 % (5-hour) / 18 % (week)"
    ) in text
    assert "/login" in text
    assert "Reset credentials file" in text
    assert fake.request_count == 1  # the hook and the refusal cost no request

    run_hook(home, hook_input("Stop"))  # Claude Code's next turn went through
    _, after = home.status_json()
    assert after["error"] is None
    assert after["claude_code"] is None
    home.assert_clean(proc)


def test_doctor_and_a_signed_out_status_show_the_refusal(home: CliHome) -> None:
    """Doctor's "last error" is ours; Claude Code's refusal gets its own line with its request
    id. Signed out, `status` still says Claude Code was refused, numbers stored or not."""
    assert home.run("hooks", "install").returncode == 0
    home.status_json()
    run_hook(home, hook_input())

    doctor = home.run("doctor")
    home.remove_credentials()
    signed_out = home.run("status")
    empty = home.clone(home.root.parent / "empty", home.api_base)
    empty.state_file.unlink()  # no numbers stored at all
    nothing = empty.run("status")

    claude_code = [line.strip() for line in doctor.stdout.splitlines() if "Claude Code:" in line]
    assert len(claude_code) == 1, doctor.stdout
    assert claude_code[0].startswith("Claude Code: out of extra usage at ")
    assert claude_code[0].endswith("request id req_011CXyZAbCdEfGhIjKlMnOp")
    for proc in (signed_out, nothing):
        assert "Problem: Not signed in to Claude Code" in proc.stdout
        assert "Claude Code's last turn (" in proc.stdout
        assert "out of extra usage" in proc.stdout
    assert nothing.returncode == 1
    assert "5-hour" not in nothing.stdout
    home.assert_clean(doctor, signed_out)
    empty.assert_clean(nothing)


def test_a_new_sign_in_ends_the_refusal(home: CliHome) -> None:
    assert home.run("hooks", "install").returncode == 0
    run_hook(home, hook_input())
    assert home.status_json()[1]["claude_code"] is not None

    home.write_credentials()  # signed in again

    assert home.status_json()[1]["claude_code"] is None


def test_other_failures_are_told_without_claiming_a_mismatch(home: CliHome) -> None:
    assert home.run("hooks", "install").returncode == 0
    run_hook(home, hook_input(error="rate_limit", details="Rate limited"))

    _, data = home.status_json()
    assert data["error"] is None
    text = home.run("status").stdout
    assert "Claude Code's last turn (" in text
    assert "rate limited" in text
