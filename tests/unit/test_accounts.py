"""Accounts: the `[[accounts]]` tables read and checked, each account's installation and room,
appending tables to a settings file without touching the rest, and a menu toggle that keeps
its key out of the tables."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from claude_usage_gauge.account_settings import accounts_from_raw, append_accounts
from claude_usage_gauge.accounts import (
    DEFAULT_NAME,
    UnknownAccount,
    discover,
    home_for,
    resolve_accounts,
    select_account,
)
from claude_usage_gauge.config import load_settings, save_setting
from claude_usage_gauge.core.settings import AccountSetting, Settings
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.testing.fake_keychain import FakeSecretStore


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "s", tmp_path / "d", tmp_path / "l", tmp_path / "c")


def test_valid_tables_are_read_in_order_with_home_expanded() -> None:
    raw = [
        {"name": "personal", "config_dir": "~/.claude"},
        {"name": "work_2", "config_dir": "/opt/claude-work"},
    ]
    accounts, problems = accounts_from_raw(raw, {"HOME": "/home/u"})
    assert problems == []
    assert accounts == (
        AccountSetting("personal", "/home/u/.claude"),
        AccountSetting("work_2", "/opt/claude-work"),
    )


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ({"accounts": 3}, "must be [[accounts]] tables"),
        ({"accounts": [3]}, "is not a table"),
        ({"accounts": [{"name": "a b", "config_dir": "/x"}]}, "name must be"),
        ({"accounts": [{"name": "../x", "config_dir": "/x"}]}, "name must be"),
        ({"accounts": [{"name": "x" * 33, "config_dir": "/x"}]}, "name must be"),
        ({"accounts": [{"name": "Nul", "config_dir": "/x"}]}, "name must be"),
        ({"accounts": [{"name": "a"}]}, "config_dir must be a folder"),
        ({"accounts": [{"name": "a", "config_dir": "relative"}]}, "absolute path"),
        (
            {"accounts": [{"name": "a", "config_dir": "/x"}, {"name": "a", "config_dir": "/y"}]},
            "used twice",
        ),
        (
            {"accounts": [{"name": "a", "config_dir": "/x"}, {"name": "b", "config_dir": "/x/"}]},
            "listed twice",
        ),
    ],
)
def test_a_bad_entry_is_a_problem_and_left_out(raw: dict[str, object], said: str) -> None:
    accounts, problems = accounts_from_raw(raw["accounts"], {"HOME": "/h"})
    assert len(problems) == 1, problems
    assert said in problems[0], problems
    assert all(a.config_dir == "/x" for a in accounts)  # at most the good first one stays


def test_the_settings_file_carries_the_accounts_and_their_problems(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[accounts]]\nname = "w"\nconfig_dir = "~/w"\n'
        '[[accounts]]\nname = "w"\nconfig_dir = "~/v"\n'
    )
    settings = load_settings(path, {"HOME": "/h"})
    assert settings.accounts == (AccountSetting("w", "/h/w"),)
    assert any("used twice" in p for p in settings.problems)


def test_without_accounts_one_default_account_in_the_usual_rooms(paths: AppPaths) -> None:
    env = {"HOME": "/h", "CLAUDE_CONFIG_DIR": "/h/.claude-env", "USER": "u"}
    (account,) = resolve_accounts(paths, Settings(), env)
    assert account.name == DEFAULT_NAME
    assert account.primary
    assert account.paths == paths
    assert account.home.config_dir == Path("/h/.claude-env")


def test_the_primary_keeps_the_usual_rooms_the_others_have_their_own(paths: AppPaths) -> None:
    settings = Settings(
        accounts=(AccountSetting("work", "/h/.claude-work"), AccountSetting("me", "/h/.claude"))
    )
    work, me = resolve_accounts(paths, settings, {"HOME": "/h", "USER": "u"})
    assert work.primary
    assert work.paths == paths
    assert not me.primary
    assert me.paths.state_dir == paths.state_dir / "accounts" / "me"
    assert me.paths.backups_dir == paths.data_dir / "accounts" / "me" / "credential-backups"
    assert me.paths.store_file != work.paths.store_file
    assert me.paths.fetch_lock != work.paths.fetch_lock
    assert me.paths.bridge_file != work.paths.bridge_file
    assert me.paths.log_dir == paths.log_dir
    assert me.paths.config_file == paths.config_file
    assert select_account((work, me), "me") is me
    assert select_account((work, me), None) is work
    with pytest.raises(UnknownAccount, match=r"'x'.*work, me"):
        select_account((work, me), "x")


def test_each_installation_as_claude_code_uses_it() -> None:
    env = {"HOME": "/h", "USER": "u"}
    default = home_for("/h/.claude", env)
    # `claude` without the variable: the state file beside the home, the plain Keychain item.
    assert default.state_file == Path("/h/.claude.json")
    assert default.keychain_service == "Claude Code-credentials"
    other = home_for("/h/.claude-work", env)
    digest = hashlib.sha256(b"/h/.claude-work").hexdigest()[:8]
    assert other.keychain_service == f"Claude Code-credentials-{digest}"
    assert other.state_file == Path("/h/.claude-work/.claude.json")
    assert other.keychain_account == "u"


def test_the_environments_own_folder_keeps_the_variables_text_for_its_keychain_item() -> None:
    # The Keychain item is named by the variable's text as Claude Code saw it (here with a
    # trailing slash), not by the settings' spelling of the same folder.
    env = {"HOME": "/h", "USER": "u", "CLAUDE_CONFIG_DIR": "/h/.claude-work/"}
    home = home_for("/h/.claude-work", env)
    digest = hashlib.sha256(b"/h/.claude-work/").hexdigest()[:8]
    assert home.keychain_service == f"Claude Code-credentials-{digest}"


def test_discover_finds_files_and_keychain_items(tmp_path: Path) -> None:
    home = tmp_path
    (home / ".claude").mkdir()
    (home / ".claude" / ".credentials.json").write_text("{}")
    (home / ".claude-work").mkdir()
    (home / ".claude-none").mkdir()
    (home / ".claude-file").write_text("not a folder")
    env = {"HOME": str(home), "USER": "u"}
    keychain = FakeSecretStore()
    work = home_for(str(home / ".claude-work"), env)
    keychain.set(work.keychain_service, "u", "{}")
    settings = Settings(accounts=(AccountSetting("mine", str(home / ".claude")),))

    found = {f.home.config_dir.name: f for f in discover(settings, env, keychain)}

    assert set(found) == {".claude", ".claude-work", ".claude-none"}
    assert found[".claude"].signed_in
    assert found[".claude"].configured_as == "mine"
    assert found[".claude-work"].signed_in
    assert found[".claude-work"].configured_as is None
    assert found[".claude-work"].where == work.keychain_location
    assert found[".claude-work"].suggested_name == "work"
    assert not found[".claude-none"].signed_in


def test_appending_keeps_every_byte_before(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    before = b"# mine\nnotifications = false\n[[accounts]]\nname = 'a'\nconfig_dir = '/a'"
    path.write_bytes(before)
    path.chmod(0o600)
    append_accounts(path, [AccountSetting("b", '/b "quoted"')])
    after = path.read_bytes()
    assert after.startswith(before)
    assert tomllib.loads(after.decode())["accounts"] == [
        {"name": "a", "config_dir": "/a"},
        {"name": "b", "config_dir": '/b "quoted"'},
    ]


def test_appending_refuses_a_file_it_cannot_extend_safely(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    for text in (b"accounts = 3\n", b"not toml [[["):
        path.write_bytes(text)
        with pytest.raises(ValueError, match=r"left as it is|by hand"):
            append_accounts(path, [AccountSetting("b", "/b")])
        assert path.read_bytes() == text


def test_a_toggle_adds_its_key_before_the_account_tables(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('poll_interval = 200\n\n[[accounts]]\nname = "a"\nconfig_dir = "/a"\n')
    path.chmod(0o600)
    settings = load_settings(path, {})
    saved = save_setting(path, settings, notifications=False)
    data = tomllib.loads(path.read_text())
    assert data["notifications"] is False
    assert data["accounts"] == [{"name": "a", "config_dir": "/a"}]
    assert saved.accounts == settings.accounts == (AccountSetting("a", "/a"),)
