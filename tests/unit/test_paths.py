"""Where files live, and the private, atomic way they are written."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.files import ensure_private_dir, write_private_file
from claude_usage_gauge.paths import AppPaths, app_paths


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_app_paths_follow_the_platform_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.name != "posix" or os.uname().sysname == "Darwin":
        pytest.skip("XDG variables apply on Linux and the BSDs")
    for name in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    paths = app_paths()
    assert paths.state_dir == tmp_path / "xdg_state_home" / APP_NAME
    assert paths.data_dir == tmp_path / "xdg_data_home" / APP_NAME
    assert paths.config_dir == tmp_path / "xdg_config_home" / APP_NAME
    assert APP_NAME in str(paths.log_dir)
    # Asking does not create anything.
    assert not paths.state_dir.exists()


def test_file_names_sit_in_their_directories(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "s", tmp_path / "d", tmp_path / "l", tmp_path / "c")
    assert paths.store_file.parent == paths.state_dir
    assert paths.store_lock.parent == paths.state_dir
    assert paths.fetch_lock.parent == paths.state_dir
    assert paths.instance_lock.parent == paths.state_dir
    assert len({paths.store_file, paths.store_lock, paths.fetch_lock, paths.instance_lock}) == 4
    assert paths.config_file == tmp_path / "c" / "config.toml"
    assert paths.backups_dir.parent == paths.data_dir
    assert paths.log_file.parent == paths.log_dir
    assert paths.log_file.name.startswith(APP_NAME)


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_ensure_private_dir_makes_the_leaf_private(tmp_path: Path) -> None:
    parent = tmp_path / "shared"
    parent.mkdir(mode=0o755)
    parent.chmod(0o755)
    leaf = parent / "a" / "b"
    ensure_private_dir(leaf)
    assert leaf.is_dir()
    assert mode(leaf) == 0o700
    assert mode(parent) == 0o755  # parents we did not make are left alone
    leaf.chmod(0o777)
    ensure_private_dir(leaf)
    assert mode(leaf) == 0o700


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_write_private_file_is_0600_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "dir" / "file.json"
    write_private_file(target, b"one")
    assert target.read_bytes() == b"one"
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    target.chmod(0o644)
    write_private_file(target, b"two")
    assert target.read_bytes() == b"two"
    assert mode(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.json"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "dir" / "file"
    write_private_file(target, b"old")
    # A directory in the way of the final name makes the replace step fail.
    blocked = tmp_path / "dir" / "blocked"
    (blocked / "inside").mkdir(parents=True)
    with pytest.raises(OSError):  # noqa: PT011 - the platform decides which OSError
        write_private_file(blocked, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["blocked", "file"]


def test_concurrent_readers_see_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "dir" / "data.json"
    write_private_file(target, json.dumps({"n": 0, "pad": "x" * 50_000}).encode())
    stop = threading.Event()
    seen: list[int] = []
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(json.loads(target.read_bytes())["n"])
            except (ValueError, OSError) as exc:
                errors.append(repr(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(1, 150):
            write_private_file(target, json.dumps({"n": n, "pad": "x" * (50_000 + n)}).encode())
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert seen
    assert json.loads(target.read_bytes())["n"] == 149
