"""Which Claude Code installation: the config dir, its files and its Keychain item."""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

import pytest

from claude_usage_gauge.sources.claude_home import ClaudeHome

SERVICE = "Claude Code-credentials"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home"), "USER": "tester"}


def test_config_dir_defaults_to_dot_claude_in_home(env: dict[str, str]) -> None:
    assert ClaudeHome.from_environ(env).config_dir == Path(env["HOME"]) / ".claude"
    assert (
        ClaudeHome.from_environ(env).credentials_file
        == Path(env["HOME"]) / ".claude" / ".credentials.json"
    )


def test_config_dir_follows_claude_config_dir(env: dict[str, str], tmp_path: Path) -> None:
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "profile")
    assert ClaudeHome.from_environ(env).config_dir == tmp_path / "profile"
    assert (
        ClaudeHome.from_environ(env).credentials_file == tmp_path / "profile" / ".credentials.json"
    )


def test_keychain_service_name_is_per_config_dir(env: dict[str, str]) -> None:
    assert ClaudeHome.from_environ(env).keychain_service == SERVICE
    env["CLAUDE_CONFIG_DIR"] = "/Users/tester/.claude-work"
    expected = hashlib.sha256(b"/Users/tester/.claude-work").hexdigest()[:8]
    assert ClaudeHome.from_environ(env).keychain_service == f"{SERVICE}-{expected}"


def test_keychain_account_is_user_with_a_fallback(env: dict[str, str]) -> None:
    assert ClaudeHome.from_environ(env).keychain_account == "tester"
    del env["USER"]
    assert ClaudeHome.from_environ(env).keychain_account == getpass.getuser()


def test_claude_code_state_file_is_beside_home_or_in_the_config_dir(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert ClaudeHome.from_environ(env).state_file == Path(env["HOME"]) / ".claude.json"
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "work")
    home = ClaudeHome.from_environ(env)
    assert home.state_file == tmp_path / "work" / ".claude.json"
    assert home.settings_file == tmp_path / "work" / "settings.json"


def test_a_home_at_a_config_dir_is_what_that_variable_would_give(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "USER": "tester", "CLAUDE_CONFIG_DIR": str(tmp_path / "w")}
    assert ClaudeHome.at(tmp_path / "w", user="tester") == ClaudeHome.from_environ(env)


def test_an_undecodable_config_dir_still_names_a_keychain_item(tmp_path: Path) -> None:
    """A CLAUDE_CONFIG_DIR that is not valid UTF-8 (surrogate escapes) never raises."""
    odd = str(tmp_path) + "/caf\udce9"
    home = ClaudeHome.from_environ({"HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": odd})
    assert home.keychain_service.startswith(SERVICE + "-")


def test_the_long_lived_token_variable_is_noticed(env: dict[str, str]) -> None:
    assert not ClaudeHome.from_environ(env).long_lived_token_set
    env["CLAUDE_CODE_OAUTH_TOKEN"] = "x"
    assert ClaudeHome.from_environ(env).long_lived_token_set
