"""Folders of ours that belong to someone else, and a run as root with the user's HOME.

Most cases need root (to give a folder to another user, or to run as one): they run where the
suite runs as root, as CI does, and are skipped elsewhere. The world-writable case runs anywhere.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.refresh import Refresher
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing import claude_code
from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from tests.support.cli_home import CliHome, closed_port, seed_home
from tests.support.clock import FakeClock, start_time
from tests.support.second_user import (
    SECOND_UID,
    chown_tree,
    needs_root,
    owners,
    run_as_second_user,
    second_user_home,
)
from tests.support.temp_home import TempHome

PLANTED = "PLANTED-BY-ANOTHER-USER"


def signature(path: Path) -> tuple[bytes, int, int]:
    info = path.stat()
    return path.read_bytes(), info.st_mtime_ns, info.st_ino


def planted_state(folder: Path, seed: Path) -> None:
    """A state file another user put there: fresh numbers (so nothing is asked) under a name of
    their choosing, and an error message of theirs."""
    state = json.loads(seed.read_text())
    for window in state["snapshot"]["windows"]:
        window["label"] = PLANTED
    state["last_error"] = {"kind": "server_error", "message": PLANTED, "retry_at": None}
    state["error_at"] = state["snapshot"]["fetched_at"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.json").write_text(json.dumps(state))


# -- class 4: a folder of ours that is not ours alone -------------------------------------------


@needs_root
def test_reset_refuses_a_data_folder_owned_by_another_user(tmp_path: Path) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.write_credentials()
    before = signature(home.credentials_path)
    data_dir = home.backups_dir.parent
    data_dir.mkdir(parents=True)
    os.chown(data_dir, SECOND_UID, SECOND_UID)
    reset = home.run("credentials", "reset", "--yes")
    assert reset.returncode == 1
    assert str(data_dir) in reset.stderr
    assert "belongs to nobody" in reset.stderr
    assert "chown -R root" in reset.stderr  # the fix, in one line
    assert signature(home.credentials_path) == before
    assert list(data_dir.iterdir()) == []
    home.assert_clean(reset)


def test_reset_refuses_a_world_writable_folder_on_the_way(tmp_path: Path) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.write_credentials()
    before = signature(home.credentials_path)
    share = home.root / ".local" / "share"
    share.mkdir(parents=True)
    share.chmod(0o777)
    reset = home.run("credentials", "reset", "--yes")
    assert reset.returncode == 1
    assert f"The folder {share} can be changed by any user" in reset.stderr
    assert f"chmod o-w {share}" in reset.stderr
    assert signature(home.credentials_path) == before
    assert list(share.iterdir()) == []


def test_doctor_names_our_own_folder_opened_to_everyone_and_a_write_narrows_it(
    tmp_path: Path,
) -> None:
    """A `chmod 777` by hand on our own state folder: usable (it is ours, and we narrow it), but
    what it holds was open to others meanwhile, so doctor says so with the fix."""
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.write_credentials()
    assert home.run("status").returncode == 1  # made the folder; the service is unreachable
    home.state_dir.chmod(0o777)

    doctor = home.run("doctor")
    assert f"The folder {home.state_dir} is open to other users (mode 0777)" in doctor.stdout
    assert f"chmod 700 {home.state_dir}" in doctor.stdout
    assert "Traceback" not in doctor.stdout + doctor.stderr

    home.run("status", "--refresh")  # writes the state: the folder is ours to narrow
    assert home.state_dir.stat().st_mode & 0o777 == 0o700
    assert "open to other users" not in home.run("doctor").stdout


@needs_root
def test_another_users_state_never_reaches_our_output(tmp_path: Path) -> None:
    seeded, _ = seed_home(tmp_path / "seed")
    with FakeUsageAPI() as fake:
        home = CliHome(tmp_path / "home", fake.url)
        home.write_credentials()
        planted_state(home.state_dir, seeded.state_file)
        chown_tree(home.state_dir)
        os.chown(home.state_dir.parent, 0, 0)  # only our own folder was given away
        outputs = [home.run(*argv) for argv in (("status",), ("status", "--json"), ("doctor",))]
        # A file of another user's inside a folder of ours is not read either.
        os.chown(home.state_dir, 0, 0)
        outputs.append(home.run("status"))
    for proc in outputs:
        assert PLANTED not in proc.stdout + proc.stderr
    assert str(home.state_dir) in outputs[2].stdout  # doctor names the folder
    home.assert_clean(*outputs)


# -- class 13: one run as root with the user's HOME -----------------------------------------------


@needs_root
def test_a_root_run_with_the_users_home_leaves_nothing_of_roots_there() -> None:
    with FakeUsageAPI() as fake, second_user_home(fake.url) as home:
        home.write_credentials()
        chown_tree(home.root)
        # `sudo claude-usage-gauge …` with HOME kept: whatever root does or declines to do...
        feed = json.dumps(claude_code.statusline_input())
        as_root = [home.run("status"), home.run("doctor"), home.run("statusline", input=feed)]
        assert all(p.returncode in (0, 1) for p in as_root)
        # ...but makes nothing in the user's home that the user could not use afterwards.
        assert owners(home.root) == {SECOND_UID}
        user = run_as_second_user(home, "status")
        assert user.returncode == 0, user.stdout + user.stderr
        home.assert_clean(*as_root, user)


@needs_root
def test_after_a_root_run_the_user_is_told_the_folder_and_the_fix() -> None:
    with FakeUsageAPI() as fake, second_user_home(fake.url) as home:
        home.write_credentials()
        chown_tree(home.root)
        # What `sudo` without -H left behind (before this was fixed): root's state folder.
        home.state_dir.parent.mkdir(parents=True)
        chown_tree(home.root)  # the user's own ~/.local/state ...
        home.state_dir.mkdir()  # ... and root's folder in it
        status = run_as_second_user(home, "status")
        doctor = run_as_second_user(home, "doctor")
        assert fake.request_count == 0  # nothing could remember a request: none is made
        refreshed = run_as_second_user(home, "status", "--refresh")
        assert fake.request_count == 1  # asked for, it is made, and shown
    fix = f"sudo chown -R nobody {home.state_dir}"
    assert status.returncode == 1
    assert fix in status.stderr  # a refusal: on stderr
    assert fix in doctor.stdout
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    assert "5-hour session" in refreshed.stdout
    for proc in (status, doctor, refreshed):
        assert "WARNING" not in proc.stderr  # no raw logging in front of the user
        assert "Traceback" not in proc.stderr
    home.assert_clean(status, doctor, refreshed)


@needs_root
def test_the_app_keeps_its_gate_in_memory_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The tray's refresher: with a state folder it may not use, one request per interval."""
    clock = FakeClock(start_time())
    with FakeUsageAPI() as fake:
        temp = TempHome(tmp_path, clock)
        temp.write_credentials()
        paths = temp.paths()
        paths.state_dir.mkdir(parents=True)
        os.chown(paths.state_dir, SECOND_UID, SECOND_UID)
        refresher = Refresher(
            Store(paths), Settings(api_base=fake.url, poll_interval=180.0), temp.home, clock=clock
        )
        with caplog.at_level(logging.WARNING):
            for _ in range(30):  # five minutes of ten-second turns
                refresher.refresh()
                clock.advance(10.0)
        assert fake.request_count == 2  # at 0 and at 180 s, as with a shared store
    said = [r for r in caplog.records if "keeping state in memory" in r.getMessage()]
    assert len(said) == 1
    assert owners(paths.state_dir) == {SECOND_UID}
    assert list(paths.state_dir.iterdir()) == []
