"""The settings file: defaults, clamping, broken files, the API base override, saving."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.config import API_BASE_ENV, load_settings, save_setting
from claude_usage_gauge.core.settings import DEFAULT_API_BASE, MIN_POLL_INTERVAL, Settings
from claude_usage_gauge.core.staleness import DEFAULT_POLL_INTERVAL

NO_ENV: dict[str, str] = {}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "config.toml"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults_without_problems(config_file: Path) -> None:
    loaded = load_settings(config_file, NO_ENV)
    assert loaded == Settings()
    assert loaded.problems == ()
    assert loaded.poll_interval == DEFAULT_POLL_INTERVAL == 180
    assert loaded.api_base == DEFAULT_API_BASE


def test_values_are_read(config_file: Path) -> None:
    write(
        config_file,
        'poll_interval = 300\napi_base = "http://127.0.0.1:8123"\nwarn_percent = 60\n'
        "critical_percent = 85.5\nnotifications = false\nnotify_percents = [95, 50, 50]\n",
    )
    loaded = load_settings(config_file, NO_ENV)
    assert loaded.poll_interval == 300.0
    assert loaded.api_base == "http://127.0.0.1:8123"
    assert loaded.warn_percent == 60.0
    assert loaded.critical_percent == 85.5
    assert loaded.notifications is False
    assert loaded.notify_percents == (50.0, 95.0)
    assert loaded.problems == ()


@pytest.mark.parametrize("value", ["0", "10", "59.9", "-5"])
def test_poll_interval_below_a_minute_is_raised_with_a_problem(
    config_file: Path, value: str
) -> None:
    write(config_file, f"poll_interval = {value}\n")
    loaded = load_settings(config_file, NO_ENV)
    assert loaded.poll_interval == MIN_POLL_INTERVAL == 60
    assert any("poll_interval" in p for p in loaded.problems)


@pytest.mark.parametrize("value", ['"fast"', "true", "nan", "inf", "[60]"])
def test_poll_interval_not_a_number_uses_default(config_file: Path, value: str) -> None:
    write(config_file, f"poll_interval = {value}\n")
    loaded = load_settings(config_file, NO_ENV)
    assert loaded.poll_interval == DEFAULT_POLL_INTERVAL
    assert any("poll_interval" in p for p in loaded.problems)


@pytest.mark.parametrize(
    "content",
    [
        "poll_interval = = 3\n",
        "[[[",
        'api_base = "unterminated\n',
        b"\xff\xfe\x00garbage",
        "poll_interval = 120\npoll_interval = 130\n",
    ],
    ids=["double-equals", "brackets", "unterminated", "binary", "duplicate-key"],
)
def test_garbage_toml_gives_defaults_and_a_problem(config_file: Path, content: str | bytes) -> None:
    write(config_file, content)
    loaded = load_settings(config_file, NO_ENV)
    assert loaded == Settings()
    assert len(loaded.problems) == 1
    assert str(config_file) in loaded.problems[0]


def test_unreadable_path_gives_defaults_and_a_problem(config_file: Path) -> None:
    config_file.mkdir(parents=True)
    loaded = load_settings(config_file, NO_ENV)
    assert loaded == Settings()
    assert loaded.problems


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("api_base = 42\n", "api_base"),
        ("warn_percent = 95\ncritical_percent = 90\n", "warn_percent"),
        ("critical_percent = 150\n", "critical_percent"),
        ('notifications = "yes"\n', "notifications"),
        ('notify_percents = "80"\n', "notify_percents"),
        ("notify_percents = []\n", "notify_percents"),
    ],
)
def test_bad_values_fall_back_with_a_problem(config_file: Path, content: str, field: str) -> None:
    write(config_file, content)
    loaded = load_settings(config_file, NO_ENV)
    assert loaded == Settings()
    assert any(field in p for p in loaded.problems)


def test_unknown_keys_are_ignored(config_file: Path) -> None:
    write(config_file, "future_option = 1\n[section]\nx = 2\n")
    loaded = load_settings(config_file, NO_ENV)
    assert loaded == Settings()
    assert loaded.problems == ()


def test_environment_overrides_the_api_base(config_file: Path) -> None:
    write(config_file, 'api_base = "http://127.0.0.1:1111"\n')
    loaded = load_settings(config_file, {API_BASE_ENV: "http://127.0.0.1:2222"})
    assert loaded.api_base == "http://127.0.0.1:2222"
    # An empty variable is no override.
    assert load_settings(config_file, {API_BASE_ENV: ""}).api_base == "http://127.0.0.1:1111"
    assert load_settings(
        config_file / "missing", {API_BASE_ENV: "http://127.0.0.1:3"}
    ).api_base == ("http://127.0.0.1:3")


def test_process_environment_is_the_default(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_BASE_ENV, "http://127.0.0.1:4444")
    assert load_settings(config_file).api_base == "http://127.0.0.1:4444"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_setting_round_trips_and_is_private(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_BASE_ENV, raising=False)
    current = load_settings(config_file, NO_ENV)
    saved = save_setting(config_file, current, notifications=False, poll_interval=240.0)
    assert saved.notifications is False
    assert saved.poll_interval == 240.0
    assert mode(config_file) == 0o600
    assert mode(config_file.parent) == 0o700
    reloaded = load_settings(config_file, NO_ENV)
    assert reloaded == saved
    assert reloaded.problems == ()
    # Defaults are not written: the file holds only what was changed.
    data = tomllib.loads(config_file.read_text())
    assert data == {"notifications": False, "poll_interval": 240.0}
    again = save_setting(
        config_file, reloaded, notify_percents=(50.0, 90.0), api_base="http://127.0.0.1:9"
    )
    assert load_settings(config_file, NO_ENV) == again


def test_save_setting_replaces_a_loose_file(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_BASE_ENV, raising=False)
    write(config_file, "poll_interval = 120\n")
    config_file.chmod(0o644)
    save_setting(config_file, load_settings(config_file, NO_ENV), warn_percent=70.0)
    assert mode(config_file) == 0o600
    assert load_settings(config_file, NO_ENV).poll_interval == 120.0


def test_save_setting_refuses_unknown_names(config_file: Path) -> None:
    with pytest.raises(KeyError):
        save_setting(config_file, Settings(), problems=("x",))
    with pytest.raises(KeyError):
        save_setting(config_file, Settings(), colour="red")
    assert not config_file.exists()


def test_save_setting_does_not_persist_the_environment_api_base(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_BASE_ENV, "http://127.0.0.1:5555")
    current = load_settings(config_file)
    save_setting(config_file, current, notifications=False)
    assert "api_base" not in tomllib.loads(config_file.read_text())


def test_save_setting_honours_the_environment_given_to_load(config_file: Path) -> None:
    """The environment that load_settings read must be the one save_setting leaves out."""
    current = load_settings(config_file, {API_BASE_ENV: "http://127.0.0.1:6666"})
    save_setting(config_file, current, notifications=False)
    assert "api_base" not in tomllib.loads(config_file.read_text())


def test_saved_settings_never_go_below_the_minimum_interval(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_BASE_ENV, raising=False)
    save_setting(config_file, Settings(), notifications=False)
    before = config_file.read_bytes()
    with pytest.raises(ValueError, match="minimum"):
        save_setting(config_file, Settings(), poll_interval=5.0)
    assert config_file.read_bytes() == before  # refused: nothing written
    assert load_settings(config_file, NO_ENV).poll_interval >= MIN_POLL_INTERVAL


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=60))
def test_saved_api_base_text_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.delenv(API_BASE_ENV, raising=False)
    path = tmp_path / "prop" / "config.toml"
    saved = save_setting(path, Settings(), api_base=text)
    loaded = load_settings(path, NO_ENV)
    assert loaded.problems == ()
    assert loaded.api_base == saved.api_base == text


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_file_content_loads(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path / "any" / "config.toml", content)
    loaded = load_settings(path, NO_ENV)
    assert loaded.poll_interval >= MIN_POLL_INTERVAL
    assert 0 < loaded.warn_percent < loaded.critical_percent <= 100
    assert loaded.notify_percents


@pytest.mark.parametrize(
    ("written", "expected", "problem"),
    [
        ('icon_style = "mono"', "mono", False),
        ('icon_style = "color"', "color", False),
        ('icon_style = "sparkly"', "auto", True),
        ("icon_style = 3", "auto", True),
    ],
)
def test_icon_style_is_checked(
    config_file: Path, written: str, expected: str, problem: bool
) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(written + "\n")
    loaded = load_settings(config_file, NO_ENV)
    assert loaded.icon_style == expected
    assert any("icon_style" in p for p in loaded.problems) == problem


def test_a_menu_toggle_changes_only_its_own_line(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    written = (
        "# my notes: the proxy is for work\n"
        'api_base = "https://proxy.corp.example"\n'
        "poll_interval = 300  # slower on battery\n"
        "notifications = true\n"
    )
    config_file.write_text(written)
    env = {API_BASE_ENV: "http://127.0.0.1:6666"}  # overrides the file for now
    loaded = load_settings(config_file, env)
    saved = save_setting(config_file, loaded, notifications=False)
    assert saved.notifications is False
    assert saved.api_base == "http://127.0.0.1:6666"  # still the environment's, while it is set
    assert config_file.read_text() == written.replace(
        "notifications = true", "notifications = false"
    )
    # A key the file did not have is appended; the rest stays.
    save_setting(config_file, saved, icon_style="mono")
    assert config_file.read_text().endswith('icon_style = "mono"\n')
    assert "# my notes" in config_file.read_text()


def test_a_broken_settings_file_is_not_overwritten_by_a_toggle(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("poll_interval = = 3\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        save_setting(config_file, Settings(), notifications=False)
    assert config_file.read_text() == "poll_interval = = 3\n"
