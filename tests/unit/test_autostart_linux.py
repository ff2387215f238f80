"""The XDG autostart entry, with real files in a temporary home, and the real CLI around it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_usage_gauge.desktop.autostart import AutostartState, autostart_for
from claude_usage_gauge.desktop.autostart._linux import ENTRY_NAME, XdgAutostart, join_exec

PROGRAM = ["/opt/claude-usage-gauge/claude-usage-gauge"]
AWKWARD = [
    '/home/ann o\'neil/My "Apps"/$HOME/back\\slash/100%/`tick`/claude-usage-gauge',
    "--flag=a b",
    "tab\there",
    "",
    "semi;colon",
]
VALIDATOR = shutil.which("desktop-file-validate")


def entry(tmp_path: Path, command: list[str] = PROGRAM) -> XdgAutostart:
    environ = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        # The system's data folders, where a native package installs the icon into hicolor.
        "XDG_DATA_DIRS": str(tmp_path / "system-share"),
    }
    made = autostart_for("linux", home=tmp_path / "home", environ=environ, command=command)
    assert isinstance(made, XdgAutostart)
    return made


def glib() -> Any:
    """GLib reads our entry as GNOME and other desktops do: the oracle for what we write."""
    return pytest.importorskip("gi.repository.GLib")


def desktop_keys(path: Path) -> dict[str, str]:
    """The [Desktop Entry] group's keys as a desktop's key-file reader sees them."""
    lib = glib()
    keyfile = lib.KeyFile()
    keyfile.load_from_file(str(path), lib.KeyFileFlags.NONE)
    keys, _ = keyfile.get_keys("Desktop Entry")
    return {key: keyfile.get_string("Desktop Entry", key) for key in keys}


def exec_argv(exec_line: str) -> list[str]:
    """Exec's arguments as a launcher splits them (no field codes in ours, only a literal %%)."""
    ok, argv = glib().shell_parse_argv(exec_line.replace("%%", "%"))
    assert ok
    return list(argv)


def validate(path: Path) -> None:
    if VALIDATOR is None:
        pytest.skip("desktop-file-validate is not installed (package desktop-file-utils)")
    done = subprocess.run([VALIDATOR, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == ""


def test_enable_writes_a_valid_entry_in_xdg_config_home(tmp_path: Path) -> None:
    auto = entry(tmp_path)

    status = auto.enable()

    path = tmp_path / "config" / "autostart" / ENTRY_NAME
    assert auto.path == path
    assert status.state is AutostartState.ENABLED
    assert status.location == str(path)
    assert PROGRAM[0] in status.detail
    validate(path)
    keys = desktop_keys(path)
    assert keys["Type"] == "Application"
    assert keys["Exec"] == PROGRAM[0]
    # No icon theme holds the app's icon here (a clone): the entry shows our own copy.
    assert keys["Icon"] == str(tmp_path / "data" / "claude-usage-gauge" / "claude-usage-gauge.png")
    assert keys["Terminal"] == "false"
    assert keys["X-GNOME-Autostart-enabled"] == "true"
    assert keys["Categories"] == "Utility;"
    assert keys["Name"]
    assert keys["Comment"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_an_entry_from_a_clone_shows_the_apps_own_icon_until_disabled(tmp_path: Path) -> None:
    from PIL import Image

    from claude_usage_gauge.desktop.app_icon import APP_ICON_SIZE

    auto = entry(tmp_path)
    icon = tmp_path / "data" / "claude-usage-gauge" / "claude-usage-gauge.png"
    assert not icon.exists()
    assert auto.status().state is AutostartState.DISABLED  # looking writes nothing

    auto.enable()

    assert Path(desktop_keys(auto.path)["Icon"]) == icon
    with Image.open(icon) as picture:
        assert picture.size == (APP_ICON_SIZE, APP_ICON_SIZE)
        assert picture.mode == "RGBA"
        assert picture.getchannel("A").getextrema()[1] == 255  # a picture, not a blank
    assert stat.S_IMODE(icon.stat().st_mode) == 0o644
    assert stat.S_IMODE(icon.parent.stat().st_mode) == 0o700
    assert auto.status().state is AutostartState.ENABLED

    auto.disable()

    assert not icon.exists()
    assert not auto.path.exists()


def test_the_same_icon_as_the_packaged_one(tmp_path: Path) -> None:
    # The .deb installs assets/icon-256.png; the copy written at enable is the same picture.
    auto = entry(tmp_path)
    auto.enable()
    assert auto.icon_path is not None
    packaged = Path(__file__).resolve().parents[2] / "assets" / "icon-256.png"
    assert auto.icon_path.read_bytes() == packaged.read_bytes()


@pytest.mark.parametrize(
    "installed",
    [
        "system-share/icons/hicolor/48x48/apps/claude-usage-gauge.png",
        "data/icons/hicolor/256x256/apps/claude-usage-gauge.png",
        "home/.icons/hicolor/scalable/apps/claude-usage-gauge.svg",
    ],
    ids=["native-package", "user-theme", "home-icons"],
)
def test_where_an_icon_theme_holds_the_icon_the_entry_names_it(
    tmp_path: Path, installed: str
) -> None:
    picture = tmp_path / installed
    picture.parent.mkdir(parents=True)
    picture.write_bytes(b"an icon")
    auto = entry(tmp_path)

    auto.enable()

    assert desktop_keys(auto.path)["Icon"] == "claude-usage-gauge"
    assert auto.icon_path is not None
    assert not auto.icon_path.exists()  # nothing of ours to show, so nothing written
    validate(auto.path)
    auto.disable()
    assert picture.read_bytes() == b"an icon"  # the theme's icon is not ours to remove


def test_an_entry_made_from_a_clone_is_told_apart_once_the_package_is_installed(
    tmp_path: Path,
) -> None:
    auto = entry(tmp_path)
    auto.enable()
    installed = tmp_path / "system-share/icons/hicolor/48x48/apps/claude-usage-gauge.png"
    installed.parent.mkdir(parents=True)
    installed.write_bytes(b"an icon")
    # The entry on disk points at our copy, the one we would write names the icon: enable
    # rewrites it, and removes the copy nothing needs any more.
    assert auto.status().state is AutostartState.DIFFERENT
    assert auto.enable().state is AutostartState.ENABLED
    assert desktop_keys(auto.path)["Icon"] == "claude-usage-gauge"
    assert auto.icon_path is not None
    assert not auto.icon_path.exists()


def test_default_folder_is_dot_config_when_xdg_config_home_is_unset_or_relative(
    tmp_path: Path,
) -> None:
    for environ in ({}, {"XDG_CONFIG_HOME": "relative/config"}):
        auto = autostart_for("linux", home=tmp_path, environ=environ, command=PROGRAM)
        assert isinstance(auto, XdgAutostart)
        assert auto.path == tmp_path / ".config" / "autostart" / ENTRY_NAME


def test_round_trip_enable_status_disable(tmp_path: Path) -> None:
    auto = entry(tmp_path)
    assert auto.status().state is AutostartState.DISABLED

    assert auto.enable().state is AutostartState.ENABLED
    assert auto.status().state is AutostartState.ENABLED
    assert auto.enable().state is AutostartState.ENABLED  # enabling twice is fine

    gone = auto.disable()
    assert gone.state is AutostartState.DISABLED
    assert gone.detail == "The entry was removed."
    assert not auto.path.exists()
    assert auto.status().state is AutostartState.DISABLED
    again = auto.disable()
    assert again.state is AutostartState.DISABLED
    assert again.detail == "There was no entry to remove."


def test_disable_removes_only_our_own_file(tmp_path: Path) -> None:
    auto = entry(tmp_path)
    auto.enable()
    neighbour = auto.path.parent / "someone-else.desktop"
    neighbour.write_text("[Desktop Entry]\nType=Application\nName=X\nExec=x\n", encoding="utf-8")

    auto.disable()

    assert not auto.path.exists()
    assert neighbour.read_text(encoding="utf-8").startswith("[Desktop Entry]")


def test_entry_pointing_elsewhere_is_different_and_enable_repairs_it(tmp_path: Path) -> None:
    entry(tmp_path, ["/old/venv/bin/claude-usage-gauge", "tray"]).enable()
    auto = entry(tmp_path)

    found = auto.status()
    assert found.state is AutostartState.DIFFERENT
    assert "not the one this program writes" in found.detail

    assert auto.enable().state is AutostartState.ENABLED
    assert exec_argv(desktop_keys(auto.path)["Exec"]) == PROGRAM


def test_path_with_spaces_quotes_and_reserved_characters_round_trips(tmp_path: Path) -> None:
    auto = entry(tmp_path, AWKWARD)

    status = auto.enable()

    assert status.state is AutostartState.ENABLED
    validate(auto.path)
    raw = next(
        line.removeprefix("Exec=")
        for line in auto.path.read_text(encoding="utf-8").splitlines()
        if line.startswith("Exec=")
    )
    assert raw.startswith('"/home/ann o\'neil/My \\\\"Apps\\\\"/\\\\$HOME/')
    assert "100%%" in raw


def test_the_desktop_reads_our_exec_line_the_same_way(tmp_path: Path) -> None:
    """GLib, which GNOME and others start autostart entries with, splits Exec into our argv."""
    auto = entry(tmp_path, AWKWARD)
    auto.enable()

    assert exec_argv(desktop_keys(auto.path)["Exec"]) == AWKWARD


def test_an_entry_changed_in_place_is_different_and_enable_rewrites_it(tmp_path: Path) -> None:
    """Turned off by the desktop (Hidden, X-GNOME-Autostart-enabled=false), edited, or garbage:
    any entry that is not ours to the byte is reported, and enabling puts ours back."""
    auto = entry(tmp_path)
    auto.enable()
    ours = auto.path.read_bytes()
    for text in (
        ours.decode().replace("X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false"),
        ours.decode() + "Hidden=true\n",
        "[Desktop Entry]\nType=Application\n",
        '[Desktop Entry]\nExec="/unterminated\n',
        "\udcff not text",
    ):
        auto.path.write_bytes(text.encode("utf-8", "surrogateescape"))
        assert auto.status().state is AutostartState.DIFFERENT
        assert auto.enable().state is AutostartState.ENABLED
        assert auto.path.read_bytes() == ours


def test_a_file_where_the_folder_should_be_raises_oserror_on_enable_only(tmp_path: Path) -> None:
    auto = entry(tmp_path)
    auto.path.parent.parent.mkdir(parents=True)
    auto.path.parent.write_text("not a folder", encoding="utf-8")

    with pytest.raises(OSError, match=r"exists|directory"):
        auto.enable()
    assert auto.status().state is AutostartState.DISABLED
    assert auto.disable().state is AutostartState.DISABLED


argument = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


@given(st.lists(argument, min_size=1, max_size=5))
def test_a_desktop_splits_any_command_we_write_back_into_it(command: list[str]) -> None:
    value = join_exec(command)
    assert "\n" not in value
    assert "\r" not in value
    lib = glib()
    keyfile = lib.KeyFile()
    data = f"[Desktop Entry]\nExec={value}\n"
    keyfile.load_from_data(data, len(data.encode()), lib.KeyFileFlags.NONE)
    assert exec_argv(keyfile.get_string("Desktop Entry", "Exec")) == command


# -- the real command ----------------------------------------------------------------------


def run_cli(
    tmp_path: Path, action: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(config or tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    return subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge", "autostart", action],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_cli_enable_status_disable(tmp_path: Path) -> None:
    path = tmp_path / "config" / "autostart" / ENTRY_NAME

    enabled = run_cli(tmp_path, "enable")
    assert enabled.returncode == 0, enabled.stderr
    assert "enabled" in enabled.stdout
    assert str(path) in enabled.stdout
    validate(path)
    argv = exec_argv(desktop_keys(path)["Exec"])
    # Absolute: a login session does not have the user's shell PATH.
    assert Path(argv[0]).is_absolute()
    assert Path(argv[0]).exists()

    status = run_cli(tmp_path, "status")
    assert status.returncode == 0
    assert status.stdout.startswith("Start at login is enabled.")

    disabled = run_cli(tmp_path, "disable")
    assert disabled.returncode == 0
    assert "disabled" in disabled.stdout
    assert not path.exists()
    assert run_cli(tmp_path, "status").stdout.startswith("Start at login is disabled.")


def test_cli_status_explains_how_to_repair_an_entry_for_another_program(tmp_path: Path) -> None:
    entry(tmp_path, ["/somewhere/else/claude-usage-gauge"]).enable()

    status = run_cli(tmp_path, "status")

    assert status.returncode == 0
    assert "did not write" in status.stdout
    assert "claude-usage-gauge autostart enable" in status.stdout
    assert run_cli(tmp_path, "enable").returncode == 0
    assert run_cli(tmp_path, "status").stdout.startswith("Start at login is enabled.")


def test_cli_failure_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "blocked"
    config.mkdir()
    (config / "autostart").write_text("a file, not a folder", encoding="utf-8")

    failed = run_cli(tmp_path, "enable", config=config)

    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.startswith("Could not turn on start at login:")
    assert str(config / "autostart") in failed.stderr
    assert failed.stdout == ""
