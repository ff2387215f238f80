"""An interrupted reset, and backups that are not sign-ins: restore never signs Claude Code out.

The interruption is forced, not timed: the real `credentials reset` runs in a subprocess whose
move step kills the process (SIGKILL, nothing can clean up), exactly between claiming the
backup's name and moving the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credential_backups import (
    NothingToDo,
    list_backups,
    restore_credentials,
)
from tests.support.cli_home import CliHome, closed_port, credentials_document

KILLED_RESET = """
import os, signal, sys
import claude_usage_gauge.sources.credential_backups as backups

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

backups._move = killed
from claude_usage_gauge.cli import main
sys.exit(main(["credentials", "reset", "--yes"]))
"""


def killed_reset(home: CliHome) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_RESET],
        env=home.env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -9, done.stderr


def signature(path: Path) -> tuple[bytes, int, int]:
    info = path.stat()
    return path.read_bytes(), info.st_mtime_ns, info.st_ino


def test_a_reset_killed_midway_leaves_nothing_to_restore(tmp_path: Path) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.write_credentials()
    before = signature(home.credentials_path)
    killed_reset(home)
    placeholders = list(home.backups_dir.iterdir())
    assert [p.stat().st_size for p in placeholders] == [0]  # what the kill left behind

    listed = home.run("credentials", "list")
    assert listed.returncode == 0
    assert listed.stdout.startswith("No backups.\n")
    restore = home.run("credentials", "restore", "--yes")
    assert restore.returncode == 1
    assert "no credentials backup to restore" in restore.stderr
    # The working sign-in was not moved aside, nor replaced by the empty file.
    assert signature(home.credentials_path) == before

    # Once clearly abandoned (older than a minute), the claim is removed.
    old = placeholders[0].stat().st_mtime - 120
    os.utime(placeholders[0], (old, old))
    home.run("credentials", "list")
    assert list(home.backups_dir.iterdir()) == []
    home.assert_clean(listed, restore)


def test_a_killed_reset_after_a_real_one_restores_the_real_one(tmp_path: Path) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    original = home.write_credentials()
    assert home.run("credentials", "reset", "--yes").returncode == 0
    home.write_credentials()  # a new sign-in
    killed_reset(home)
    listed = home.run("credentials", "list")
    assert len(listed.stdout.strip().splitlines()) == 1
    restore = home.run("credentials", "restore", "--yes")
    assert restore.returncode == 0, restore.stdout
    assert home.credentials_path.read_bytes() == original


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"{}", b'{"mcpOAuth": {}}', b'{"claudeAiOauth": {"accessToken": ""}}'],
    ids=["empty", "garbage", "empty object", "no sign-in", "empty token"],
)
def test_restore_refuses_a_backup_that_is_not_a_sign_in(tmp_path: Path, content: bytes) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.write_credentials()
    before = signature(home.credentials_path)
    home.backups_dir.mkdir(parents=True, mode=0o700)
    bad = home.backups_dir / "credentials-20990101T000000Z.json"
    bad.write_bytes(content)
    old = os.stat(bad).st_mtime - 3600
    os.utime(bad, (old, old))  # not a fresh claim of a reset in flight
    restore = home.run("credentials", "restore", "--yes")
    assert restore.returncode == 1
    if content:
        assert "not a Claude Code sign-in" in restore.stderr
    assert restore.stdout == ""
    assert signature(home.credentials_path) == before
    assert sorted(p.name for p in home.backups_dir.iterdir()) == ([bad.name] if content else [])
    home.assert_clean(restore)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300) | st.sampled_from([b'{"claudeAiOauth": 1}', b"[]", b"null"]))
def test_restore_moves_nothing_unless_the_backup_holds_a_sign_in(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    root = tmp_path_factory.mktemp("restore")
    home = ClaudeHome.at(root / "claude")
    home.config_dir.mkdir()
    working = json.dumps(credentials_document()).encode()
    home.credentials_file.write_bytes(working)
    backups_dir = root / "backups"
    backups_dir.mkdir(mode=0o700)
    (backups_dir / "credentials-20200101T000000Z.json").write_bytes(content)
    try:
        restore_credentials(backups_dir, home)
    except NothingToDo:
        assert home.credentials_file.read_bytes() == working
        assert len(list_backups(backups_dir)) == (1 if content else 0)
    else:  # only a real sign-in goes back; the working one is kept as a backup
        assert json.loads(home.credentials_file.read_bytes())["claudeAiOauth"]["accessToken"]
        assert any(p.read_bytes() == working for p in backups_dir.iterdir())
