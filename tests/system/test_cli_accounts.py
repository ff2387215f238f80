"""Two Claude accounts, run for real: the CLI in a subprocess, two config folders with a token
each, one fake usage API that answers each token its own way.

What must hold: each account is asked with its own token only, through its own gate (one token
rate limited never holds the other back), and `status`, `status --json` and `--account` show
them side by side.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok, rate_limited
from tests.support.cli_home import (
    SECOND_TOKEN,
    TOKEN,
    CliHome,
    assert_status_shape,
    credentials_document,
    error_kind,
    percents,
)

ACCOUNTS_TOML = """\
# two installations
poll_interval = 120

[[accounts]]
name = "personal"
config_dir = "~/.claude"

[[accounts]]
name = "work"
config_dir = "~/.claude-work"
"""


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


class TwoAccounts(CliHome):
    @property
    def work_dir(self) -> Path:
        return self.root / ".claude-work"

    @property
    def config_file(self) -> Path:
        return self.root / ".config" / "claude-usage-gauge" / "config.toml"

    @property
    def work_state_dir(self) -> Path:
        return self.state_dir / "accounts" / "work"

    def write_work_credentials(self, token: str = SECOND_TOKEN) -> None:
        import json

        _write_private(
            self.work_dir / ".credentials.json",
            json.dumps(credentials_document(token), indent=2).encode(),
        )
        if token not in self.secrets:
            self.secrets.append(token)

    def configure(self, text: str = ACCOUNTS_TOML) -> None:
        _write_private(self.config_file, text.encode())


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as api:
        yield api


@pytest.fixture
def two(tmp_path: Path, fake: FakeUsageAPI) -> TwoAccounts:
    home = TwoAccounts(tmp_path / "home", fake.url)
    home.write_credentials(TOKEN)
    home.write_work_credentials(SECOND_TOKEN)
    home.token_holders += [
        home.work_dir / ".credentials.json",
        home.root / ".local" / "share" / "claude-usage-gauge" / "accounts",
    ]
    home.configure()
    return home


def _account(data: dict[str, object], name: str) -> dict[str, object]:
    accounts = data["accounts"]
    assert isinstance(accounts, list)
    found = [a for a in accounts if isinstance(a, dict) and a["name"] == name]
    assert len(found) == 1, accounts
    entry = found[0]
    assert isinstance(entry, dict)
    return entry


def test_both_accounts_side_by_side_in_status_json(two: TwoAccounts, fake: FakeUsageAPI) -> None:
    fake.script_token(TOKEN, default=ok(five_hour=11.0, seven_day=21.0))
    fake.script_token(SECOND_TOKEN, default=ok(five_hour=66.0, seven_day=77.0))

    proc, data = two.status_json()

    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Today's keys at the top, for the primary account; the list beside them.
    assert_status_shape({k: v for k, v in data.items() if k != "accounts"})
    assert percents(data) == {"five_hour": 11.0, "seven_day": 21.0}
    personal, work = _account(data, "personal"), _account(data, "work")
    assert personal["config_dir"] == str(two.claude_dir)
    assert work["config_dir"] == str(two.work_dir)
    assert_status_shape({k: v for k, v in work.items() if k not in ("name", "config_dir")})
    assert percents(personal) == {"five_hour": 11.0, "seven_day": 21.0}
    assert percents(work) == {"five_hour": 66.0, "seven_day": 77.0}
    # Each token asked once, each for its own account.
    assert fake.requests_with_token(TOKEN) == 1
    assert fake.requests_with_token(SECOND_TOKEN) == 1
    assert fake.request_count == 2
    # The primary keeps the usual store; the second account has a room of its own.
    assert two.state_file.is_file()
    assert (two.work_state_dir / "state.json").is_file()

    # Served from each store now: no request.
    proc, again = two.status_json()
    assert percents(_account(again, "work")) == {"five_hour": 66.0, "seven_day": 77.0}
    assert fake.request_count == 2


def test_one_account_rate_limited_does_not_hold_back_the_other(
    two: TwoAccounts, fake: FakeUsageAPI
) -> None:
    # The personal token is refused for an hour; the work token is answered.
    fake.script_token(TOKEN, default=rate_limited("3600"))
    fake.script_token(SECOND_TOKEN, default=ok(five_hour=30.0, seven_day=40.0))

    proc, data = two.status_json()

    assert proc.returncode == 1, proc.stdout + proc.stderr  # one account has no numbers
    assert error_kind(_account(data, "personal")) == "rate_limited"
    assert error_kind(data) == "rate_limited"  # the top level is the primary
    assert percents(_account(data, "work")) == {"five_hour": 30.0, "seven_day": 40.0}
    assert (fake.requests_with_token(TOKEN), fake.requests_with_token(SECOND_TOKEN)) == (1, 1)

    # The work numbers move; a manual refresh of work goes at once, whatever the other's gate.
    fake.script_token(SECOND_TOKEN, default=ok(five_hour=35.0, seven_day=41.0))
    proc, work = two.status_json("--refresh", "--account", "work")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_status_shape(work)  # one account picked: today's shape, for it
    assert percents(work) == {"five_hour": 35.0, "seven_day": 41.0}
    assert work["error"] is None
    assert work["stale"] is False
    assert (fake.requests_with_token(TOKEN), fake.requests_with_token(SECOND_TOKEN)) == (1, 2)

    # A refresh of every account: personal's gate still holds (its 429 said an hour), and
    # work's manual spacing holds too; neither token is sent.
    proc, both = two.status_json("--refresh")
    assert error_kind(_account(both, "personal")) == "rate_limited"
    # The held one is named on stderr; work's numbers came from its refresh a moment ago.
    assert proc.returncode == 3
    assert proc.stderr.startswith(
        "personal: No request was sent: the server asked us to wait (rate limited). "
        "The next one may go at "
    )
    # ...and work's says why nothing went for it: its numbers are seconds old.
    assert proc.stderr.splitlines()[1].startswith("work: No request was sent: the numbers are ")
    assert proc.stderr.count("\n") == 2
    assert percents(_account(both, "work")) == {"five_hour": 35.0, "seven_day": 41.0}
    assert fake.requests_with_token(TOKEN) == 1
    # Never a token sent for the other account, and nothing but the two.
    assert fake.request_count == fake.requests_with_token(TOKEN) + fake.requests_with_token(
        SECOND_TOKEN
    )


def test_status_text_has_a_heading_per_account(two: TwoAccounts, fake: FakeUsageAPI) -> None:
    fake.script_token(TOKEN, default=ok(five_hour=12.0, seven_day=22.0))
    fake.script_token(SECOND_TOKEN, default=ok(five_hour=56.0, seven_day=57.0))

    proc = two.run("status")

    two.assert_clean(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    personal_at = out.index(f"== personal ({two.claude_dir}) ==")
    work_at = out.index(f"== work ({two.work_dir}) ==")
    assert personal_at < work_at
    assert "session: 12" in out[personal_at:work_at]
    assert "session: 56" in out[work_at:]

    one = two.run("status", "--account", "work")
    assert one.returncode == 0
    assert "==" not in one.stdout
    assert "session: 56" in one.stdout
    assert "session: 12" not in one.stdout


def test_an_unknown_account_is_one_line_and_exit_2(two: TwoAccounts, fake: FakeUsageAPI) -> None:
    for argv in (
        ("status", "--account", "nope"),
        ("status", "--json", "--account", "nope"),
        ("doctor", "--account", "nope"),
        ("credentials", "list", "--account", "nope"),
        ("history", "--account", "nope", "--output", "-"),
        ("statusline", "install", "--account", "nope"),
        ("hooks", "install", "--account", "nope"),
    ):
        proc = two.run(*argv)
        two.assert_clean(proc)
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert "'nope'" in lines[0]
        assert "personal, work" in lines[0]
    assert fake.request_count == 0


def test_doctor_is_about_one_account_and_lists_them_all(two: TwoAccounts) -> None:
    proc = two.run("doctor", "--account", "work")
    two.assert_clean(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"found in: {two.work_dir / '.credentials.json'}" in proc.stdout
    assert f"personal (primary): {two.claude_dir}" in proc.stdout
    assert f"work (shown above): {two.work_dir}" in proc.stdout
    assert f"state: {two.work_state_dir}" in proc.stdout


def test_credentials_reset_moves_only_the_picked_accounts_sign_in(
    two: TwoAccounts, fake: FakeUsageAPI
) -> None:
    work_file = two.work_dir / ".credentials.json"
    work_bytes = work_file.read_bytes()
    personal_bytes = two.credentials_path.read_bytes()

    proc = two.run("credentials", "reset", "--account", "work", "--yes")
    two.assert_clean(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not work_file.exists()
    assert two.credentials_path.read_bytes() == personal_bytes
    # Its backup is in its own room: the primary's restore cannot put it into ~/.claude.
    primary = two.run("credentials", "list")
    assert primary.returncode == 0  # an empty list is an answer
    assert primary.stdout.startswith("No backups.\n")
    listed = two.run("credentials", "list", "--account", "work")
    assert listed.returncode == 0
    assert "(file)" in listed.stdout
    assert two.run("credentials", "restore", "--yes").returncode == 1
    assert two.credentials_path.read_bytes() == personal_bytes

    restored = two.run("credentials", "--account", "work", "restore", "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert work_file.read_bytes() == work_bytes
    assert fake.request_count == 0


def test_no_accounts_configured_keeps_todays_output(tmp_path: Path, fake: FakeUsageAPI) -> None:
    home = CliHome(tmp_path / "home", fake.url)
    home.write_credentials()
    proc, data = home.status_json()
    assert proc.returncode == 0
    assert_status_shape(data)  # no `accounts` key without accounts
    assert not (home.state_dir / "accounts").exists()
    listed = home.run("accounts", "list")
    assert listed.returncode == 0
    assert str(home.claude_dir) in listed.stdout


def test_discover_lists_sign_ins_and_adds_them_keeping_the_file(
    tmp_path: Path, fake: FakeUsageAPI
) -> None:
    home = TwoAccounts(tmp_path / "home", fake.url)
    home.write_credentials(TOKEN)
    home.write_work_credentials(SECOND_TOKEN)
    home.token_holders.append(home.work_dir / ".credentials.json")
    (home.root / ".claude-empty").mkdir()  # a folder without a sign-in
    before = b"# mine\npoll_interval = 300  # five minutes\n\n[some_table_of_mine]\nx = 1\n"
    _write_private(home.config_file, before)

    proc = home.run("accounts", "discover")
    home.assert_clean(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{home.claude_dir}: signed in" in proc.stdout
    assert f"{home.work_dir}: signed in" in proc.stdout
    assert ".claude-empty" not in proc.stdout
    # ~/.claude is watched already (nothing configured): one more to watch, not two.
    assert f"{home.claude_dir}: signed in ({home.claude_dir / '.credentials.json'}); watched" in (
        proc.stdout
    )
    assert "--add' to watch 1 more." in proc.stdout
    assert home.config_file.read_bytes() == before

    added = home.run("accounts", "discover", "--add")
    home.assert_clean(added)
    assert added.returncode == 0, added.stdout + added.stderr
    after = home.config_file.read_bytes()
    assert after.startswith(before)
    import tomllib

    tables = tomllib.loads(after.decode())["accounts"]
    # Written as people write them: from the home, which the settings expand back.
    assert tables == [
        {"name": "default", "config_dir": "~/.claude"},
        {"name": "work", "config_dir": f"~/{home.work_dir.name}"},
    ]
    listed = home.run("accounts", "list")
    # Lined up in columns.
    assert listed.stdout.splitlines() == [
        f"default  {home.claude_dir}  (primary)",
        f"work     {home.work_dir}",
    ]
    # Once more: nothing missing, nothing written.
    again = home.run("accounts", "discover", "--add")
    assert again.returncode == 0
    assert home.config_file.read_bytes() == after
    assert "configured as work" in again.stdout


def test_discover_with_no_sign_in_anywhere_says_so_on_stderr(
    tmp_path: Path, fake: FakeUsageAPI
) -> None:
    home = TwoAccounts(tmp_path / "home", fake.url)  # no credentials written anywhere

    proc = home.run("accounts", "discover")

    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "No Claude Code sign-in found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_bad_accounts_entry_is_a_settings_problem(tmp_path: Path, fake: FakeUsageAPI) -> None:
    home = TwoAccounts(tmp_path / "home", fake.url)
    home.write_credentials(TOKEN)
    home.configure('[[accounts]]\nname = "bad name!"\nconfig_dir = "~/.claude-x"\n')

    proc, _data = home.status_json()
    assert proc.returncode == 0  # the bad entry is left out: the default account as without any
    doctor = home.run("doctor")
    home.assert_clean(doctor)
    assert "accounts entry 1: name must be" in doctor.stdout


# -- the statusline bridge and the hooks, per account -------------------------------------------


def _installed(settings_file: Path) -> list[str]:
    """Our commands in a Claude Code settings.json: the statusline and every hook."""
    import json

    data = json.loads(settings_file.read_text())
    commands = [data["statusLine"]["command"]] if "statusLine" in data else []
    for groups in data.get("hooks", {}).values():
        commands += [entry["command"] for group in groups for entry in group["hooks"]]
    return commands


def _run_installed(home: CliHome, command: str, subcommand: str, stdin: str) -> None:
    import shlex

    words = shlex.split(command)
    proc = home.run(*words[words.index(subcommand) :], input=stdin)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_install_for_an_account_writes_its_name_and_room_into_its_own_settings(
    two: TwoAccounts, fake: FakeUsageAPI
) -> None:
    import json

    from claude_usage_gauge.testing.claude_code import hook_input, statusline_input

    fake.script_token(TOKEN, default=ok(five_hour=10.0, seven_day=20.0))
    fake.script_token(SECOND_TOKEN, default=ok(five_hour=50.0, seven_day=60.0))
    for argv in (
        ("statusline", "install", "--account", "work"),
        ("hooks", "install", "--account", "work"),
        ("statusline", "install"),
        ("hooks", "install"),
    ):
        proc = two.run(*argv)
        two.assert_clean(proc)
        assert proc.returncode == 0, (argv, proc.stdout, proc.stderr)

    work_commands = _installed(two.work_dir / "settings.json")
    personal_commands = _installed(two.claude_dir / "settings.json")
    assert len(work_commands) == 3  # the statusline, StopFailure and Stop
    assert len(personal_commands) == 3
    for command in work_commands:
        assert f"--account work --state-dir {two.work_state_dir}" in command, command
    for command in personal_commands:
        # The primary's commands are today's: its folder, no account name.
        assert "--account" not in command, command
        assert f"--state-dir {two.state_dir}" in command, command

    # Claude Code (work) runs its statusline and a hook: they land in work's room only.
    line = json.dumps(statusline_input(five=71.0, seven=72.0))
    _run_installed(two, work_commands[0], "statusline", line)
    failure = json.dumps(hook_input("StopFailure", error="rate_limit"))
    _run_installed(two, work_commands[1], "hook", failure)
    assert (two.work_state_dir / "bridge.json").is_file()
    assert not (two.state_dir / "bridge.json").exists()

    proc, data = two.status_json()
    work = _account(data, "work")
    assert percents(work) == {"five_hour": 71.0, "seven_day": 72.0}
    assert work["source"] == "statusline"
    assert work["claude_code"] is not None
    personal = _account(data, "personal")
    assert percents(personal) == {"five_hour": 10.0, "seven_day": 20.0}
    assert personal["claude_code"] is None

    # Typed by hand without a folder, `--account` finds the room from the settings.
    by_hand = two.run(
        "statusline", "--account", "work", input=json.dumps(statusline_input(five=73.0))
    )
    assert by_hand.returncode == 0
    assert "73" in by_hand.stdout
    _, again = two.status_json()
    assert percents(_account(again, "work"))["five_hour"] == 73.0
    # An account that does not exist records nothing anywhere (and still prints the line).
    nowhere = two.run(
        "statusline", "--account", "nope", input=json.dumps(statusline_input(five=99.0))
    )
    assert nowhere.returncode == 0
    assert "99" in nowhere.stdout
    assert not (two.root / "bridge.json").exists()
    _, last = two.status_json()
    assert 99.0 not in percents(_account(last, "work")).values()
    assert 99.0 not in percents(_account(last, "personal")).values()
