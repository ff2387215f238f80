"""Special and huge files where we read, and names and text that are not valid UTF-8.

Named pipes (os.mkfifo), /dev/zero and sparse gigabytes at every path a command reads, in a
throwaway home, with the real CLI in subprocesses: each command ends (a hang fails the test by
its timeout), says what is wrong in a sentence, and changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from claude_usage_gauge.testing import claude_code
from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from tests.support.cli_home import CliHome, closed_port

pytestmark = pytest.mark.skipif(os.name != "posix", reason="named pipes and /dev/zero")
TIMEOUT = 30.0  # far beyond what any of these commands takes; a hang fails here


def fifo(path: Path) -> str:
    path.unlink(missing_ok=True)
    os.mkfifo(path, 0o600)
    return "named pipe"


def dev_zero(path: Path) -> str:
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/zero")
    return "device"


def sparse_gigabyte(path: Path) -> str:
    with path.open("ab") as handle:
        handle.truncate(1 << 30)
    return "too large"


SPECIALS: dict[str, Callable[[Path], str]] = {
    "named pipe": fifo,
    "/dev/zero": dev_zero,
    "sparse 1 GiB": sparse_gigabyte,
}


def run(home: CliHome, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    proc = home.run(*args, input=stdin, timeout=TIMEOUT)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "unexpected error" not in proc.stdout + proc.stderr
    return proc


@pytest.mark.parametrize("kind", sorted(SPECIALS))
def test_special_credentials_never_hang_and_say_what_is_wrong(tmp_path: Path, kind: str) -> None:
    with FakeUsageAPI() as fake:
        home = CliHome(tmp_path / "home", fake.url)
        home.write_credentials()
        words = SPECIALS[kind](home.credentials_path)
        status = run(home, "status")
        doctor = run(home, "doctor")
        as_json = run(home, "status", "--json")
        assert fake.request_count == 0
    assert status.returncode == 1
    assert words in status.stdout
    assert "could not be read" in doctor.stdout
    assert json.loads(as_json.stdout)["error"]["kind"] == "bad_credentials"
    home.assert_clean(status, doctor, as_json)


@pytest.mark.parametrize("kind", sorted(SPECIALS))
def test_special_files_at_our_own_paths_are_passed_by(tmp_path: Path, kind: str) -> None:
    """The state, bridge and settings files: each command still ends and still works."""
    with FakeUsageAPI() as fake:
        home = CliHome(tmp_path / "home", fake.url)
        home.write_credentials()
        run(home, "status")  # makes the folders
        config = home.root / ".config" / "claude-usage-gauge" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        for path in (home.state_file, home.state_dir / "bridge.json", config):
            SPECIALS[kind](path)
        # The bridge reads the bridge file and the store when Claude Code sends no numbers.
        line = run(home, "statusline", "--format", "{five_hour}")
        assert line.returncode == 0
        doctor = run(home, "doctor")
        assert f"settings problem: settings file {config}" in doctor.stdout
        status = run(home, "status", "--json")
        assert json.loads(status.stdout)["windows"]  # fetched, and kept in a new state file
    for path in (home.state_dir / "bridge.json", config):
        path.unlink()  # a sparse gigabyte is not worth reading for the token scan
    home.assert_clean(line, doctor, status)


@pytest.mark.parametrize("kind", sorted(SPECIALS))
def test_a_special_settings_json_is_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.claude_dir.mkdir(mode=0o700)
    settings = home.claude_dir / "settings.json"
    settings.write_text("{}")
    words = SPECIALS[kind](settings)
    before = os.lstat(settings)
    for action in ("install", "uninstall"):
        proc = run(home, "statusline", action)
        assert proc.returncode == 1
        assert words in proc.stderr
        assert "nothing was changed" in proc.stderr
    after = os.lstat(settings)
    assert (after.st_ino, after.st_mode, after.st_size) == (
        before.st_ino,
        before.st_mode,
        before.st_size,
    )
    assert sorted(p.name for p in home.claude_dir.iterdir()) == ["settings.json"]


# -- text that is not valid UTF-8 ---------------------------------------------------------------


def test_a_config_dir_named_in_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    """Reset and restore work, and every path is shown (escaped), with no unexpected error."""
    with FakeUsageAPI() as fake:
        home = CliHome(tmp_path / "home", fake.url)
        raw_dir = os.fsencode(tmp_path / "home") + b"/cl\xffaude\xe9"
        os.mkdir(raw_dir, 0o700)
        config_dir = os.fsdecode(raw_dir)
        claude_code.write_credentials_file(Path(config_dir), home_document())
        env = {"CLAUDE_CONFIG_DIR": config_dir}
        original = Path(config_dir, ".credentials.json").read_bytes()
        procs = [home.run(*argv, env=env, timeout=TIMEOUT) for argv in ARGVS]
    for proc in procs:
        assert "Traceback" not in proc.stdout + proc.stderr
        assert "unexpected error" not in proc.stdout + proc.stderr
    reset, listed, restore = procs[2:5]
    assert reset.returncode == 0, reset.stdout
    assert listed.stdout.endswith(" (file)\n")
    assert restore.returncode == 0, restore.stdout
    assert Path(config_dir, ".credentials.json").read_bytes() == original
    assert "\\xff" in procs[1].stdout  # doctor names the folder, escaped


ARGVS = (
    ("status",),
    ("doctor",),
    ("credentials", "reset", "--yes"),
    ("credentials", "list"),
    ("credentials", "restore", "--yes"),
    ("status", "--json"),
)


def home_document() -> dict[str, object]:
    from tests.support.cli_home import credentials_document

    return credentials_document()


def test_a_lone_surrogate_escape_in_settings_json(tmp_path: Path) -> None:
    """Valid JSON (an escape of half a surrogate pair) that Python cannot encode back as UTF-8:
    install works, leaves no stray backup, and uninstall gives the bytes back."""
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.claude_dir.mkdir(mode=0o700)
    settings = home.claude_dir / "settings.json"
    original = (
        b'{\n  "model": "x\\udc80y",\n  "statusLine": {"type": "command", '
        b'"command": "echo \\ud800"}\n}\n'
    )
    settings.write_bytes(original)
    install = run(home, "statusline", "install")
    assert install.returncode == 0, install.stdout
    text = settings.read_bytes().decode("utf-8")  # valid UTF-8
    data = json.loads(text)
    assert data["model"] == "x\udc80y"
    assert '"model": "x\\udc80y"' in text  # the user's line kept as written
    assert data["statusLine"]["command"].endswith("--then 'echo \ud800'")
    assert len(list(home.claude_dir.glob("settings.json.*.bak"))) == 1
    uninstall = run(home, "statusline", "uninstall")
    assert uninstall.returncode == 0, uninstall.stdout
    assert settings.read_bytes() == original
