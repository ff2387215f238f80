"""Reset and restore of Claude Code's sign-in, on real files in throwaway homes.

The Keychain (macOS only) is the in-memory fake behind the same interface.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.core.errors import UsageError
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credential_backups import (
    BACKUP_SERVICE,
    NothingToDo,
    list_backups,
    reset_credentials,
    restore_credentials,
)
from claude_usage_gauge.sources.credentials import (
    read_credentials,
)
from claude_usage_gauge.testing.fake_keychain import FakeSecretStore

TOKEN = "sk-ant-oat01-" + "Hh8_Jj-4Gg" * 9 + "Wx2q"
NEW_TOKEN = "sk-ant-oat01-" + "Nn1-Mm_6Bb" * 9 + "Vz7r"
T1 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
T2 = T1 + timedelta(hours=2)
POSIX = os.name == "posix"


def sign_in(token: str) -> bytes:
    """Bytes as Claude Code might write them: odd spacing, non-ASCII, other top-level keys."""
    document = {
        "claudeAiOauth": {"accessToken": token, "refreshToken": "sk-ant-ort01-r", "expiresAt": 1},
        "mcpOAuth": {"srv|ab12": {"serverName": "café ☕", "accessToken": "mcp-token"}},
    }
    return (json.dumps(document, ensure_ascii=False, indent=3) + "\n\n").encode()


ORIGINAL = sign_in(TOKEN)
NEWER = sign_in(NEW_TOKEN)


@pytest.fixture(autouse=True)
def in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Labels show local time with the zone: pinned here to a zone without summer time."""
    if not hasattr(time, "tzset"):  # Windows: the machine's own zone (see `t1_shown`)
        yield
        return
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def t1_shown() -> str:
    """T1 as a label shows it: in Tokyo where the zone can be pinned."""
    if hasattr(time, "tzset"):
        return "2025-03-04 14:06:07 JST"
    from claude_usage_gauge.local_time import stamp

    return stamp(T1, seconds=True)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    return {"HOME": str(home), "USER": "tester"}


@pytest.fixture
def backups_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "credential-backups"


def put_file(env: dict[str, str], content: bytes) -> Path:
    path = ClaudeHome.from_environ(env).credentials_file
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_holding(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


# --- files -----------------------------------------------------------------------------------


def test_reset_moves_the_file_into_a_private_backup(env: dict[str, str], backups_dir: Path) -> None:
    original = put_file(env, ORIGINAL)
    result = reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    assert not original.exists()
    assert result.moved_file == original
    assert result.keychain_saved is False
    backup_file = backups_dir / "credentials-20250304T050607Z.json"
    assert result.backup.path == backup_file
    assert result.backup.keychain_item is None
    assert result.backup.created_at == T1
    assert backup_file.read_bytes() == ORIGINAL
    if POSIX:
        assert mode(backup_file) == 0o600
        assert mode(backups_dir) == 0o700
    for words in ("terminal", "`claude`", "/login", "claude auth login"):
        assert words in result.next_steps
    assert "claude-usage-gauge credentials restore" in result.next_steps
    assert TOKEN not in result.next_steps
    # A notification shows no markup: the menu's entry by name, the command without backticks.
    steps = result.menu_steps
    assert "Sign in again in Claude Code" in steps
    assert '"Restore credentials…" in this menu' in steps
    assert "(or run claude-usage-gauge credentials restore)" in steps
    assert "`" not in steps
    assert result.backup.label in steps


def test_reset_then_restore_gives_back_the_exact_bytes(
    env: dict[str, str], backups_dir: Path
) -> None:
    original = put_file(env, ORIGINAL)
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    result = restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T2)
    assert original.read_bytes() == ORIGINAL
    assert json.loads(original.read_bytes())["mcpOAuth"]["srv|ab12"]["serverName"] == "café ☕"
    assert result.restored_file == original
    assert result.set_aside is None
    assert result.keychain_restored is False
    assert list_backups(backups_dir) == []
    if POSIX:
        assert mode(original) == 0o600
    assert read_credentials(ClaudeHome.from_environ(env)).access_token == TOKEN


def test_reset_never_overwrites_an_existing_backup(env: dict[str, str], backups_dir: Path) -> None:
    backups_dir.mkdir(parents=True)
    taken = backups_dir / "credentials-20250304T050607Z.json"
    taken.write_bytes(b"an older backup")
    put_file(env, ORIGINAL)
    first = reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    put_file(env, NEWER)
    second = reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    assert taken.read_bytes() == b"an older backup"
    assert first.backup.path == backups_dir / "credentials-20250304T050607Z-2.json"
    assert second.backup.path == backups_dir / "credentials-20250304T050607Z-3.json"
    assert first.backup.path.read_bytes() == ORIGINAL
    assert second.backup.path.read_bytes() == NEWER
    listed = list_backups(backups_dir)
    assert [b.path for b in listed] == [second.backup.path, first.backup.path, taken]
    assert listed[0].label == f"{t1_shown()} #3 (file)"


def test_restore_when_a_new_sign_in_exists_keeps_both(
    env: dict[str, str], backups_dir: Path
) -> None:
    original = put_file(env, ORIGINAL)
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    put_file(env, NEWER)  # the user logged in again
    result = restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T2)
    assert original.read_bytes() == ORIGINAL
    assert result.set_aside is not None
    assert result.set_aside.path is not None
    assert result.set_aside.path.read_bytes() == NEWER
    assert result.set_aside.label in result.next_steps
    assert result.set_aside.label in result.menu_steps
    assert '"Restore credentials…" again' in result.menu_steps
    assert "`" not in result.menu_steps
    assert [b.path for b in list_backups(backups_dir)] == [result.set_aside.path]
    # Restoring again swaps back: nothing was lost either way.
    again = restore_credentials(
        backups_dir, ClaudeHome.from_environ(env), now=T2 + timedelta(minutes=1)
    )
    assert original.read_bytes() == NEWER
    assert again.set_aside is not None
    assert again.set_aside.path is not None
    assert again.set_aside.path.read_bytes() == ORIGINAL


def test_restore_takes_the_newest_backup(env: dict[str, str], backups_dir: Path) -> None:
    original = put_file(env, ORIGINAL)
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    put_file(env, NEWER)
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T2)
    restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T2 + timedelta(hours=1))
    assert original.read_bytes() == NEWER
    remaining = list_backups(backups_dir)
    assert len(remaining) == 1
    assert remaining[0].path is not None
    assert remaining[0].path.read_bytes() == ORIGINAL


def test_reset_and_restore_follow_claude_config_dir(
    env: dict[str, str], backups_dir: Path, tmp_path: Path
) -> None:
    default = put_file(env, NEWER)
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "profile")
    (tmp_path / "profile").mkdir()
    profile = put_file(env, ORIGINAL)
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    assert not profile.exists()
    assert default.read_bytes() == NEWER
    restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T2)
    assert profile.read_bytes() == ORIGINAL


def test_restore_recreates_a_removed_config_dir(env: dict[str, str], backups_dir: Path) -> None:
    original = put_file(env, ORIGINAL)
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    shutil.rmtree(original.parent)
    restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T2)
    assert original.read_bytes() == ORIGINAL


def test_nothing_to_reset_or_restore(env: dict[str, str], backups_dir: Path) -> None:
    with pytest.raises(NothingToDo) as reset_error:
        reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    assert str(ClaudeHome.from_environ(env).credentials_file) in str(reset_error.value)
    assert not backups_dir.exists()
    with pytest.raises(NothingToDo) as restore_error:
        restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    assert "no credentials backup" in str(restore_error.value)
    backups_dir.mkdir(parents=True)
    (backups_dir / "notes.txt").write_text("not a backup")
    (backups_dir / "credentials-20251399T999999Z.json").write_text("not a real time")
    with pytest.raises(NothingToDo):
        restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    assert issubclass(NothingToDo, ValueError)


def test_cross_device_move_keeps_every_byte(backups_dir: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == backups_dir.parent.parent.stat().st_dev:
        pytest.skip("needs a second filesystem at /dev/shm")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        env = {"HOME": other, "USER": "tester"}
        Path(other, ".claude").mkdir()
        original = put_file(env, ORIGINAL)
        result = reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
        assert not original.exists()
        assert result.backup.path is not None
        assert result.backup.path.read_bytes() == ORIGINAL
        assert mode(result.backup.path) == 0o600
        old_umask = os.umask(0o022)  # a usual umask must not widen the restored file
        try:
            restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T2)
        finally:
            os.umask(old_umask)
        assert original.read_bytes() == ORIGINAL
        assert mode(original) == 0o600


def test_restore_never_overwrites_a_sign_in_that_appears_at_the_last_moment(
    backups_dir: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    put_file(env, ORIGINAL)
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    target = ClaudeHome.from_environ(env).credentials_file
    real_lexists = os.path.lexists

    def login_races_us(path: object) -> bool:
        # Claude Code writes a new sign-in right after the existence check.
        exists = real_lexists(path)  # type: ignore[arg-type]
        if Path(str(path)) == target and not exists:
            target.write_bytes(b'{"claudeAiOauth": {"accessToken": "NEW"}}')
        return exists

    monkeypatch.setattr(os.path, "lexists", login_races_us)
    with pytest.raises(OSError, match="not overwritten"):
        restore_credentials(backups_dir, ClaudeHome.from_environ(env), now=T2)
    assert target.read_bytes() == b'{"claudeAiOauth": {"accessToken": "NEW"}}'
    kept = [b.path for b in list_backups(backups_dir) if b.path is not None]
    assert any(p.read_bytes() == ORIGINAL for p in kept)  # the old one is still a backup


# --- the Keychain ----------------------------------------------------------------------------


@pytest.fixture
def keychain(env: dict[str, str]) -> FakeSecretStore:
    return FakeSecretStore(
        {
            (
                ClaudeHome.from_environ(env).keychain_service,
                ClaudeHome.from_environ(env).keychain_account,
            ): ORIGINAL.decode()
        }
    )


def original_item(env: dict[str, str]) -> tuple[str, str]:
    return ClaudeHome.from_environ(env).keychain_service, ClaudeHome.from_environ(
        env
    ).keychain_account


def test_reset_copies_the_keychain_item_into_a_backup_item_only(
    env: dict[str, str], backups_dir: Path, keychain: FakeSecretStore, tmp_path: Path
) -> None:
    result = reset_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T1)
    assert result.keychain_saved is True
    assert result.moved_file is None
    assert result.backup.path is None
    assert result.backup.keychain_item == "credentials-20250304T050607Z"
    assert original_item(env) not in keychain.items
    assert keychain.items == {(BACKUP_SERVICE, "credentials-20250304T050607Z"): ORIGINAL.decode()}
    # Never written to a file in clear: not in the backups, not anywhere in the test's tree.
    assert files_holding(tmp_path, TOKEN) == []
    marker = backups_dir / "credentials-20250304T050607Z.keychain"
    if POSIX:
        assert mode(marker) == 0o600
        assert mode(backups_dir) == 0o700
    listed = list_backups(backups_dir, keychain)
    assert [b.keychain_item for b in listed] == ["credentials-20250304T050607Z"]
    assert listed[0].label == f"{t1_shown()} (Keychain)"


def test_keychain_round_trip(
    env: dict[str, str], backups_dir: Path, keychain: FakeSecretStore, tmp_path: Path
) -> None:
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T1)
    result = restore_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T2)
    assert result.keychain_restored is True
    assert result.restored_file is None
    assert keychain.items == {original_item(env): ORIGINAL.decode()}
    assert list(backups_dir.iterdir()) == []
    assert files_holding(tmp_path, TOKEN) == []


def test_keychain_and_file_together(
    env: dict[str, str], backups_dir: Path, keychain: FakeSecretStore
) -> None:
    original = put_file(env, NEWER)
    result = reset_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T1)
    assert result.keychain_saved is True
    assert result.moved_file == original
    assert result.backup.label == f"{t1_shown()} (file + Keychain)"
    assert not original.exists()
    assert original_item(env) not in keychain.items
    restore_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T2)
    assert original.read_bytes() == NEWER
    assert keychain.items == {original_item(env): ORIGINAL.decode()}


def test_keychain_restore_sets_a_new_sign_in_aside(
    env: dict[str, str], backups_dir: Path, keychain: FakeSecretStore
) -> None:
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T1)
    keychain.set(*original_item(env), NEWER.decode())  # logged in again
    result = restore_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T2)
    assert keychain.get(*original_item(env)) == ORIGINAL.decode()
    assert result.set_aside is not None
    assert result.set_aside.keychain_item is not None
    assert keychain.get(BACKUP_SERVICE, result.set_aside.keychain_item) == NEWER.decode()


def test_a_keychain_that_does_not_keep_the_copy_changes_nothing(
    env: dict[str, str], backups_dir: Path, keychain: FakeSecretStore
) -> None:
    class Truncating(FakeSecretStore):
        def set(self, service: str, account: str, value: str) -> None:
            super().set(service, account, value[:10])

    store = Truncating(keychain.items)
    original = put_file(env, NEWER)
    with pytest.raises(OSError, match="exact copy"):
        reset_credentials(backups_dir, ClaudeHome.from_environ(env), store, now=T1)
    assert store.items == {original_item(env): ORIGINAL.decode()}
    assert original.read_bytes() == NEWER
    assert list_backups(backups_dir, store) == []
    assert list(backups_dir.iterdir()) == []


def test_a_locked_keychain_stops_the_reset_before_anything_moves(
    env: dict[str, str], backups_dir: Path, keychain: FakeSecretStore
) -> None:
    original = put_file(env, NEWER)
    keychain.locked = True
    with pytest.raises(UsageError, match="locked"):
        reset_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T1)
    keychain.locked = False
    assert original.read_bytes() == NEWER
    assert keychain.items == {original_item(env): ORIGINAL.decode()}


def test_listing_omits_keychain_backups_whose_item_is_gone(
    env: dict[str, str], backups_dir: Path, keychain: FakeSecretStore
) -> None:
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T1)
    keychain.items.clear()  # removed by hand in the Keychain app
    assert list_backups(backups_dir, keychain) == []
    with pytest.raises(NothingToDo):
        restore_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T2)


def test_keychain_backup_cannot_be_restored_without_a_keychain(
    env: dict[str, str], backups_dir: Path, keychain: FakeSecretStore
) -> None:
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), keychain, now=T1)
    with pytest.raises(NothingToDo, match="Keychain"):
        restore_credentials(backups_dir, ClaudeHome.from_environ(env), None, now=T2)
    assert len(keychain.items) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_an_existing_wide_backups_dir_is_narrowed(env: dict[str, str], backups_dir: Path) -> None:
    backups_dir.mkdir(parents=True, mode=0o755)
    backups_dir.chmod(0o755)
    put_file(env, ORIGINAL)
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), now=T1)
    assert mode(backups_dir) == 0o700
