"""Move Claude Code's sign-in aside (so it asks for a fresh login) and put it back. Never lossy.

The reported cure for a stuck "out of extra usage" error is to remove the credentials and log in
again; this does the removing as a move into a private backups directory, so `restore` can undo it.
The file is moved, never rewritten, so every byte (other top-level keys included) comes back. On
macOS the Keychain item is copied into a backup Keychain item, never into a file, and only deleted
once the copy reads back identical. The CLI and the tray menu both call these functions.

Each backup is named by its UTC time, `credentials-YYYYmmddTHHMMSSZ[-N]`: `<name>.json` is a moved
file; `<name>.keychain` records a Keychain backup (item names only, no secret) because Keychain
items cannot be listed through the secret-store interface.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from claude_usage_gauge.core.menu import RESTORE_ENTRY
from claude_usage_gauge.files import ensure_private_dir, read_regular, write_private_file
from claude_usage_gauge.local_time import stamp
from claude_usage_gauge.sources.backup_checks import (
    is_placeholder,
    not_restorable,
    remove_abandoned,
)
from claude_usage_gauge.sources.claude_home import ClaudeHome

if TYPE_CHECKING:
    from claude_usage_gauge.sources.keychain import SecretStore

BACKUP_SERVICE = "claude-usage-gauge-backup"
FILE_SUFFIX = ".json"
MARKER_SUFFIX = ".keychain"
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"credentials-(\d{8}T\d{6}Z)(?:-(\d+))?")

RESTORE_COMMAND = "claude-usage-gauge credentials restore"
# A credentials file is a few KiB: a backup larger than this is not one.
MAX_BACKUP_BYTES = 1024 * 1024


class NothingToDo(ValueError):
    """There is no sign-in to move aside, or no backup to put back."""


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path | None  # the moved credentials file, if there was one
    keychain_item: str | None  # account of the backup item in service BACKUP_SERVICE
    created_at: datetime
    label: str


@dataclass(frozen=True, slots=True)
class ResetResult:
    backup: Backup
    moved_file: Path | None  # where the credentials file was (it is now backup.path)
    keychain_saved: bool
    next_steps: str  # for a terminal
    menu_steps: str = ""  # for a notification after the tray menu's "Reset credentials file…"


@dataclass(frozen=True, slots=True)
class RestoreResult:
    restored: Backup
    restored_file: Path | None  # where the file went back to
    keychain_restored: bool
    # The sign-in that had appeared since the reset, now kept as a backup of its own.
    set_aside: Backup | None
    next_steps: str  # for a terminal
    menu_steps: str = ""  # for a notification after the tray menu's "Restore credentials…"


def list_backups(backups_dir: Path, secret_store: SecretStore | None = None) -> list[Backup]:
    """Every backup, newest first; with a store, Keychain backups whose item is gone are omitted."""
    remove_abandoned(backups_dir, (FILE_SUFFIX, MARKER_SUFFIX))
    try:
        # An empty claim left by a killed reset is not a backup.
        names = {e.name for e in backups_dir.iterdir() if not is_placeholder(e)}
    except OSError:
        return []
    found: list[tuple[datetime, int, Backup]] = []
    for stem in {stem for name in names if (stem := _stem(name)) is not None}:
        parsed = _parse_stem(stem)
        if parsed is None:
            continue
        has_file = f"{stem}{FILE_SUFFIX}" in names
        keychain = f"{stem}{MARKER_SUFFIX}" in names and _backup_item_present(secret_store, stem)
        if has_file or keychain:
            backup = _backup(backups_dir, stem, parsed, has_file=has_file, keychain=keychain)
            found.append((*parsed, backup))
    # Backups made within one second are ordered by their number.
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [backup for _, _, backup in found]


def reset_credentials(
    backups_dir: Path,
    home: ClaudeHome,
    secret_store: SecretStore | None = None,
    now: datetime | None = None,
) -> ResetResult:
    """Move the current sign-in (file and, on macOS, Keychain item) into a new backup."""
    moved = _set_aside(backups_dir, home, secret_store, _utc(now))
    if moved is None:
        where = str(home.credentials_file)
        if secret_store is not None:
            where = f"the {home.keychain_location} or {where}"
        raise NothingToDo(f"There is no Claude Code sign-in to reset: nothing in {where}.")
    backup, moved_file, keychain_saved = moved
    next_steps = (
        f"Claude Code's sign-in was moved aside (backup {backup.label}). To sign in again, open "
        "a terminal, run `claude`, then type /login (or run `claude auth login`). To undo this, "
        f"run `{RESTORE_COMMAND}`."
    )
    # A notification shows no markup: the menu's own entry first, the command as it is typed.
    menu_steps = (
        f"Claude Code's sign-in was moved aside (backup {backup.label}). Sign in again in "
        "Claude Code: run claude in a terminal, then type /login. To undo this, choose "
        f'"{RESTORE_ENTRY}" in this menu (or run {RESTORE_COMMAND}).'
    )
    return ResetResult(backup, moved_file, keychain_saved, next_steps, menu_steps)


def restore_credentials(
    backups_dir: Path,
    home: ClaudeHome,
    secret_store: SecretStore | None = None,
    now: datetime | None = None,
) -> RestoreResult:
    """Put the newest backup back where Claude Code reads it, first moving aside whatever is there.

    It goes back to the current config directory and Keychain item name, which is where Claude
    Code will look now.
    """
    backups = list_backups(backups_dir, secret_store)
    if not backups:
        raise NothingToDo(f"There is no credentials backup to restore in {backups_dir}.")
    target = backups[0]
    if target.keychain_item is not None and secret_store is None:
        raise NothingToDo(
            f"The newest backup ({target.label}) is in the Keychain, which is not available here."
        )
    # Checked before anything moves: installing what holds no sign-in would sign Claude Code
    # out, with the working sign-in moved aside.
    why = not_restorable(target.path, MAX_BACKUP_BYTES) if target.path is not None else None
    if why is not None:
        raise NothingToDo(
            f"The newest backup ({target.label}) is not a Claude Code sign-in ({why}), so it "
            f"was not put back and nothing was changed. It stays in {backups_dir}; move it out "
            "of that folder to restore the one before it."
        )
    set_aside = _set_aside(backups_dir, home, secret_store, _utc(now))
    keychain_restored = False
    if target.keychain_item is not None and secret_store is not None:
        _restore_keychain(target.keychain_item, backups_dir, home, secret_store)
        keychain_restored = True
    restored_file: Path | None = None
    if target.path is not None:
        restored_file = home.credentials_file
        _put_file_back(target.path, restored_file)
    next_steps = (
        f"Claude Code's earlier sign-in is back (backup {target.label}); Claude Code uses it the "
        "next time it starts."
    )
    menu_steps = next_steps
    if set_aside is not None:
        kept = f" The sign-in that was there is kept as backup {set_aside[0].label}; "
        next_steps += kept + f"run `{RESTORE_COMMAND}` again to swap back."
        menu_steps += (
            kept + f'choose "{RESTORE_ENTRY}" again (or run {RESTORE_COMMAND}) to swap back.'
        )
    return RestoreResult(
        restored=target,
        restored_file=restored_file,
        keychain_restored=keychain_restored,
        set_aside=set_aside[0] if set_aside is not None else None,
        next_steps=next_steps,
        menu_steps=menu_steps,
    )


def _set_aside(
    backups_dir: Path, home: ClaudeHome, store: SecretStore | None, now: datetime
) -> tuple[Backup, Path | None, bool] | None:
    """Move whatever sign-in exists into a new backup; None when there is none."""
    source = home.credentials_file
    service, account = home.keychain_service, home.keychain_account
    value = store.get(service, account) if store is not None else None
    has_file = os.path.lexists(source)
    if value is None and not has_file:
        return None
    ensure_private_dir(backups_dir)
    wanted = ((FILE_SUFFIX, has_file), (MARKER_SUFFIX, value is not None))
    suffixes = [suffix for suffix, needed in wanted if needed]
    stem = _reserve(backups_dir, now, store, suffixes)
    file_target = backups_dir / f"{stem}{FILE_SUFFIX}"
    marker = backups_dir / f"{stem}{MARKER_SUFFIX}"
    value_moved = False
    try:
        # The Keychain first: its copy is verified before anything is removed.
        if store is not None and value is not None:
            _copy_item(store, value, BACKUP_SERVICE, stem)
            record = {"service": service, "account": account, "backup_service": BACKUP_SERVICE}
            write_private_file(marker, json.dumps(record).encode())
            store.delete(service, account)
            value_moved = True
    except BaseException:
        _discard_placeholders(backups_dir, stem, suffixes)
        raise
    if has_file:
        try:
            _move(source, file_target)
        except BaseException:
            with contextlib.suppress(OSError):
                file_target.unlink()
            raise
        _make_private(file_target)
    parsed = _parse_stem(stem) or (now, 1)
    backup = _backup(backups_dir, stem, parsed, has_file=has_file, keychain=value_moved)
    return backup, source if has_file else None, value_moved


def _reserve(
    backups_dir: Path, now: datetime, store: SecretStore | None, suffixes: list[str]
) -> str:
    """A backup name nobody uses yet, claimed by creating its (empty, 0600) files exclusively."""
    base = f"credentials-{now.strftime(_TIME_FORMAT)}"
    for number in itertools.count(1):
        stem = base if number == 1 else f"{base}-{number}"
        taken = [s for s in (FILE_SUFFIX, MARKER_SUFFIX) if (backups_dir / f"{stem}{s}").exists()]
        if taken or (store is not None and store.get(BACKUP_SERVICE, stem) is not None):
            continue
        created: list[str] = []
        try:
            for suffix in suffixes:
                fd = os.open(
                    backups_dir / f"{stem}{suffix}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
                )
                os.close(fd)
                created.append(suffix)
        except FileExistsError:
            # Another process took this name between our look and our claim: take the next.
            _discard_placeholders(backups_dir, stem, created)
            continue
        return stem
    raise AssertionError("unreachable")  # pragma: no cover


def _discard_placeholders(backups_dir: Path, stem: str, suffixes: list[str]) -> None:
    for suffix in suffixes:
        path = backups_dir / f"{stem}{suffix}"
        with contextlib.suppress(OSError):
            # Only our own empty claims: never a file that already holds a backup.
            if path.stat().st_size == 0:
                path.unlink()


def _move(source: Path, target: Path, *, claimed: bool = True) -> None:
    """Move `source` onto `target`, keeping every byte.

    `claimed`: `target` is our own placeholder (a backup name we reserved) and may be replaced.
    Otherwise (Claude Code's own path, on restore) it must not exist, and is never overwritten,
    even by a file that appears at the last moment.
    """
    if not claimed:
        _move_no_clobber(source, target)
        return
    try:
        os.replace(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    _copy_then_remove(source, target, os.O_WRONLY | os.O_TRUNC)


def _move_no_clobber(source: Path, target: Path) -> None:
    try:
        # A hard link fails if the name exists: no window in which a new file is overwritten.
        os.link(source, target)
    except FileExistsError:
        raise _appeared(target) from None
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        _copy_then_remove(source, target, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        return
    source.unlink()


def _copy_then_remove(source: Path, target: Path, flags: int) -> None:
    """Another filesystem: copy into a 0600 file, make it durable, then remove the original,
    unless it changed meanwhile (then both are kept)."""
    before = source.stat()
    # A regular file only (a pipe here would hang the copy), of a sign-in file's size.
    data = read_regular(source, MAX_BACKUP_BYTES)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise _appeared(target) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    after = source.stat()
    if (after.st_mtime_ns, after.st_size) != (before.st_mtime_ns, before.st_size):
        raise OSError(f"{source} changed while it was being moved; both copies are kept")
    source.unlink()


def _appeared(target: Path) -> OSError:
    return OSError(
        f"{target} appeared meanwhile (a new sign-in?); it was not overwritten, and every "
        "backup is kept: see 'claude-usage-gauge credentials list'."
    )


def _put_file_back(backup: Path, target: Path) -> None:
    if os.path.lexists(target):
        raise _appeared(target)
    if not target.parent.exists():
        target.parent.mkdir(parents=True, mode=0o700)
    _move(backup, target, claimed=False)


def _restore_keychain(stem: str, backups_dir: Path, home: ClaudeHome, store: SecretStore) -> None:
    value = store.get(BACKUP_SERVICE, stem)
    if value is None:
        raise OSError(f'The Keychain backup item "{BACKUP_SERVICE}" / "{stem}" is gone.')
    service, account = home.keychain_service, home.keychain_account
    if store.get(service, account) is not None:
        raise OSError(
            f'The Keychain item "{service}" appeared while restoring (a new sign-in?); it was '
            "not overwritten, and every backup is kept: see 'claude-usage-gauge credentials list'."
        )
    _copy_item(store, value, service, account)
    store.delete(BACKUP_SERVICE, stem)
    with contextlib.suppress(FileNotFoundError):
        (backups_dir / f"{stem}{MARKER_SUFFIX}").unlink()


def _copy_item(store: SecretStore, value: str, service: str, account: str) -> None:
    """Write `value` to a new item and read it back; a copy that differs is removed, not kept."""
    store.set(service, account, value)
    if store.get(service, account) != value:
        store.delete(service, account)
        raise OSError(
            f'The Keychain did not keep an exact copy in "{service}", so nothing was moved.'
        )


def _backup_item_present(store: SecretStore | None, stem: str) -> bool:
    if store is None:
        return True
    try:
        return store.get(BACKUP_SERVICE, stem) is not None
    except Exception:
        # A locked Keychain cannot tell us: keep listing it rather than hide a backup.
        return True


def _stem(name: str) -> str | None:
    """The file name without our suffix; `_parse_stem` then tells whether it is one of ours."""
    for suffix in (FILE_SUFFIX, MARKER_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _backup(
    backups_dir: Path, stem: str, parsed: tuple[datetime, int], *, has_file: bool, keychain: bool
) -> Backup:
    created_at, sequence = parsed
    kinds = " + ".join(k for k, present in (("file", has_file), ("Keychain", keychain)) if present)
    number = f" #{sequence}" if sequence > 1 else ""
    return Backup(
        path=backups_dir / f"{stem}{FILE_SUFFIX}" if has_file else None,
        keychain_item=stem if keychain else None,
        created_at=created_at,
        # Local time, as every time the command line and the menu show; the name keeps UTC.
        label=f"{stamp(created_at, seconds=True)}{number} ({kinds})",
    )


def _parse_stem(stem: str) -> tuple[datetime, int] | None:
    """When the backup was made and its number within that second; None for a stranger's name."""
    match = _NAME.fullmatch(stem)
    if match is None:
        return None
    try:
        created_at = datetime.strptime(match.group(1), _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return created_at, int(match.group(2) or 1)


def _make_private(path: Path) -> None:
    # A moved symlink is left as it is: chmod would change the file it points to.
    if os.name == "posix" and not path.is_symlink():
        with contextlib.suppress(OSError):
            path.chmod(0o600)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)
