"""Careful edits of Claude Code's own settings.json: only the `statusLine` entry, nothing else.

The file is the user's (and Claude Code's): every byte we do not mean to change is kept (the
edit is made in the text, see `json_edit`), the original bytes are copied to a private backup
before any change, the new text replaces the old atomically with the same file mode and never
over an edit made meanwhile (see `careful_write`), and a file that is not valid JSON is refused
rather than "repaired". The change as a command (plan, dry run, backup, write) is in
`settings_change`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.files import open_regular

SETTINGS_NAME = "settings.json"
STATUS_LINE_KEY = "statusLine"
BRIDGE_SUBCOMMAND = "statusline"
STATE_DIR_OPTION = "--state-dir"
ACCOUNT_OPTION = "--account"
THEN_OPTION = "--then"
NEW_FILE_MODE = 0o600
NEW_DIR_MODE = 0o700
# Backups copy the user's settings: never readable by more than the user.
BACKUP_MODE_MASK = 0o600
# Anything larger is not a settings file we should be rewriting.
MAX_SETTINGS_BYTES = 16 * 1024 * 1024


class SettingsError(Exception):
    """A sentence for the user: why the settings file was left as it was."""


@dataclass(frozen=True, slots=True)
class SettingsFile:
    path: Path  # where Claude Code looks (may be a symlink)
    target: Path  # the file actually written (the symlink's target)
    original: bytes | None  # None when the file does not exist yet
    data: dict[str, object]
    mode: int


@dataclass(frozen=True, slots=True)
class Plan:
    """The settings after the change, or None when there is nothing to do; and what to say."""

    data: dict[str, object] | None
    message: str


# -- where -------------------------------------------------------------------------------------


# -- read, back up, write -----------------------------------------------------------------------


def read_settings(path: Path) -> SettingsFile:
    """The parsed file (a missing one reads as `{}`); `SettingsError` when it cannot be used."""
    target = path.resolve()
    try:
        # Never blocks on a pipe, never reads a device or a huge sparse file.
        with open_regular(target, MAX_SETTINGS_BYTES) as handle:
            original = handle.read(MAX_SETTINGS_BYTES + 1)
            mode = os.fstat(handle.fileno()).st_mode & 0o777
    except FileNotFoundError:
        return SettingsFile(path=path, target=target, original=None, data={}, mode=NEW_FILE_MODE)
    except OSError as exc:
        raise SettingsError(
            f"{path} could not be read ({exc.strerror or exc}); nothing was changed."
        ) from exc
    if len(original) > MAX_SETTINGS_BYTES:
        raise SettingsError(f"{path} is too large to be a settings file; nothing was changed.")
    if not original.strip():
        # An empty file is what some editors leave behind; it holds no settings to lose.
        return SettingsFile(path=path, target=target, original=original, data={}, mode=mode)
    try:
        data = json.loads(original.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"{path} is not UTF-8 text; it was left unchanged. Fix or move it, then try again."
        ) from exc
    except (ValueError, RecursionError) as exc:
        where = (
            f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise SettingsError(
            f"{path} is not valid JSON{where}; it was left unchanged. "
            "Fix or move it, then try again."
        ) from exc
    if not isinstance(data, dict):
        raise SettingsError(
            f"{path} does not hold a JSON object; it was left unchanged. "
            "Fix or move it, then try again."
        )
    return SettingsFile(path=path, target=target, original=original, data=data, mode=mode)


def render(data: Mapping[str, object]) -> str:
    """A whole new file (there was none): Claude Code's own layout (two-space indent), non-ASCII
    kept readable, never NaN or Infinity, which Claude Code's reader rejects."""
    from claude_usage_gauge.sources.json_edit import dumps

    return dumps(dict(data), indent="  ") + "\n"


def original_text(current: SettingsFile) -> str:
    """The file's text without its byte-order mark (read_settings made sure it is UTF-8)."""
    if current.original is None:
        return ""
    return current.original.decode("utf-8-sig")


def unified_diff(current: SettingsFile, new_text: str) -> str:
    import difflib

    name = str(current.path)
    lines = difflib.unified_diff(
        original_text(current).splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=name if current.original is not None else "/dev/null",
        tofile=name,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def backup(current: SettingsFile, now: datetime | None = None) -> Path | None:
    """Copy the original bytes beside the file (its mode, but never wider than 0600); None when
    there was no file."""
    if current.original is None:
        return None
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{current.path.name}.{APP_NAME}-{stamp}"
    for attempt in range(100):
        suffix = "" if attempt == 0 else f"-{attempt}"
        candidate = current.path.with_name(f"{base}{suffix}.bak")
        mode = current.mode & BACKUP_MODE_MASK
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(current.original)
                handle.flush()
                os.fsync(handle.fileno())
            # The umask may have narrowed the mode given to open().
            with contextlib.suppress(OSError):
                os.chmod(candidate, mode)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(candidate)
            raise
        return candidate
    raise SettingsError(f"No free backup name beside {current.path}; nothing was changed.")


def write_settings(current: SettingsFile, new_text: str) -> bool:
    """Replace the file atomically with `new_text` (see `write_bytes`)."""
    return write_bytes(current, encoded(current, new_text))


def write_bytes(current: SettingsFile, data: bytes) -> bool:
    """Replace the file atomically with `data`, keeping its mode (0600 for a new file).

    Refuses if the file changed since it was read (Claude Code writes it too), up to the very
    moment of the swap. True when that was guaranteed, False when this system could only check
    right before the rename (see `careful_write`).
    """
    from claude_usage_gauge.sources.careful_write import ChangedMeanwhile, replace_if_unchanged

    target = current.target
    if not target.parent.exists():
        target.parent.mkdir(parents=True, mode=NEW_DIR_MODE)
    try:
        return replace_if_unchanged(
            target, current.original, data, mode=current.mode, limit=MAX_SETTINGS_BYTES
        )
    except ChangedMeanwhile as changed:
        kept = f" (the other version is kept as {changed.kept_at})" if changed.kept_at else ""
        raise SettingsError(
            f"{current.path} changed while it was being edited; nothing was written{kept}. "
            "Try again."
        ) from None


def encoded(current: SettingsFile, text: str) -> bytes:
    """`text` as the file's bytes: UTF-8, with the byte-order mark the file had."""
    bom = b"\xef\xbb\xbf" if (current.original or b"").startswith(b"\xef\xbb\xbf") else b""
    try:
        return bom + text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SettingsError(
            f"{current.path} would hold text that is not valid UTF-8; nothing was changed."
        ) from exc


# -- the statusLine entry -------------------------------------------------------------------------


def _program_name(token: str) -> str:
    name = re.split(r"[\\/]", token)[-1].lower()
    return name.removesuffix(".exe")


def _bridge_index(
    tokens: Sequence[str], program: Sequence[str], subcommand: str = BRIDGE_SUBCOMMAND
) -> int | None:
    """Where our subcommand (`statusline`, `hook`) sits in a command's words, if it is ours."""
    try:
        index = list(tokens).index(subcommand)
    except ValueError:
        return None
    prefix = list(tokens[:index])
    if not prefix:
        return None
    if prefix == list(program):
        return index
    if _program_name(prefix[-1]) in (APP_NAME, f"{APP_NAME}-gui"):
        return index
    if len(prefix) >= 2 and prefix[-2] == "-m" and prefix[-1] == "claude_usage_gauge":
        return index
    return None


def _split(command: str) -> list[str] | None:
    try:
        return shlex.split(command)
    except ValueError:
        return None


def is_bridge_command(
    command: str, program: Sequence[str] = (), subcommand: str = BRIDGE_SUBCOMMAND
) -> bool:
    """The command runs this program's `subcommand` (the statusline bridge by default)."""
    tokens = _split(command)
    return tokens is not None and _bridge_index(tokens, program, subcommand) is not None


def wrapped_command(command: str, program: Sequence[str] = ()) -> str | None:
    """The user's own command that our bridge runs with `--then`, if any."""
    tokens = _split(command)
    if tokens is None:
        return None
    index = _bridge_index(tokens, program)
    if index is None:
        return None
    rest = tokens[index + 1 :]
    for i, token in enumerate(rest):
        if token == THEN_OPTION and i + 1 < len(rest):
            return rest[i + 1] or None
        if token.startswith(THEN_OPTION + "="):
            return token.split("=", 1)[1] or None
    return None


def bridge_command_line(
    program: Sequence[str],
    state_dir: str | None = None,
    then_cmd: str | None = None,
    account: str | None = None,
) -> str:
    words = [*program, BRIDGE_SUBCOMMAND]
    if account:  # an account other than the primary: its name, for people reading settings.json
        words += [ACCOUNT_OPTION, account]
    if state_dir:
        words += [STATE_DIR_OPTION, state_dir]
    command = shlex.join(words)
    if then_cmd:
        command += f" {THEN_OPTION} {shlex.quote(then_cmd)}"
    return command


def _status_line_entry(data: Mapping[str, object], path: Path) -> dict[str, object] | None:
    entry = data.get(STATUS_LINE_KEY)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise SettingsError(
            f'"{STATUS_LINE_KEY}" in {path} is not an object; it was left unchanged.'
        )
    kind = entry.get("type", "command")
    command = entry.get("command")
    if kind != "command" or not (command is None or isinstance(command, str)):
        raise SettingsError(
            f'"{STATUS_LINE_KEY}" in {path} is not a command entry this tool understands; '
            "it was left unchanged."
        )
    return entry


def plan_install(
    data: Mapping[str, object],
    program: Sequence[str],
    path: Path,
    state_dir: str | None = None,
    account: str | None = None,
) -> Plan:
    """Point `statusLine` at the bridge, wrapping an existing command of the user's with --then."""
    entry = _status_line_entry(data, path)
    old = entry.get("command") if entry is not None else None
    # Kept exactly as written (spaces too), so uninstall gives back the very same string.
    old_command = old if isinstance(old, str) and old.strip() else ""
    if old_command and is_bridge_command(old_command, program):
        return Plan(None, f"Already installed in {path}; nothing changed (command: {old_command}).")
    new_entry: dict[str, object] = dict(entry) if entry is not None else {}
    new_entry["type"] = "command"
    new_entry["command"] = bridge_command_line(program, state_dir, old_command or None, account)
    new_data = dict(data)
    new_data[STATUS_LINE_KEY] = new_entry
    message = f"Installed in {path}: Claude Code's status line now runs {new_entry['command']}"
    if old_command:
        message += f"\nYour own statusline command still runs, its output first: {old_command}"
    return Plan(new_data, message)


def plan_uninstall(data: Mapping[str, object], program: Sequence[str], path: Path) -> Plan:
    """Give back the user's own command if the bridge wraps one, else drop `statusLine`."""
    entry = _status_line_entry(data, path)
    old = entry.get("command") if entry is not None else None
    command = old.strip() if isinstance(old, str) else ""
    if entry is None or not command or not is_bridge_command(command, program):
        return Plan(None, f"Not installed in {path}; nothing changed.")
    new_data = dict(data)
    inner = wrapped_command(command, program)
    if inner:
        new_entry = dict(entry)
        new_entry["command"] = inner
        new_data[STATUS_LINE_KEY] = new_entry
        return Plan(
            new_data, f"Uninstalled from {path}; your own statusline command is back: {inner}"
        )
    # Other keys the user had (e.g. "padding") stay; an entry left empty goes.
    rest = {k: v for k, v in entry.items() if k not in ("type", "command")}
    if rest:
        new_data[STATUS_LINE_KEY] = rest
    else:
        del new_data[STATUS_LINE_KEY]
    return Plan(new_data, f"Uninstalled from {path}; Claude Code has no statusline command now.")
