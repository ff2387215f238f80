"""Changing Claude Code's settings.json as a command: plan, show (dry run) or back up and write,
and tell the user in plain lines. Shared by `statusline install` and `hooks install`.

Only what the plan changes is edited, in the file's text (see `json_edit`): key order,
indentation, spacing and numbers such as 1e400 stay as written. An undo (`restores`: the plan it
undoes) gives back the very bytes from before when nothing else changed since: the newest backup,
planned again, reads exactly as the file does now. The new bytes are worked out (and checked to
be valid UTF-8) before the backup is made, and the backup is removed again if the write is
refused, so a refusal leaves nothing behind. The write never lands over an edit Claude Code made
meanwhile (see `careful_write`).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.sources import claude_settings as cs
from claude_usage_gauge.sources.json_edit import apply_changes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

log = logging.getLogger(__name__)

Planner = Callable[[dict[str, object]], cs.Plan]

_NOT_GUARANTEED = (
    "Note: this system cannot swap files atomically, so an edit another program made in the "
    "same instant cannot be ruled out; the backup above holds the version before ours."
)


def change_settings(
    path: Path,
    plan: Planner,
    *,
    dry_run: bool,
    what: str,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    restores: Planner | None = None,
) -> int:
    """Apply `plan` to the settings in `path`: 0 when done (or nothing to do), 1 when the file
    was left as it was, with the reason (on stderr). `what` names the change for the log;
    `restores` is the plan this one undoes, if any."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    exact: bytes | None = None
    try:
        current = cs.read_settings(path)
        planned = plan(current.data)
        if planned.data is None:
            out.write(planned.message + "\n")
            return 0
        exact = restored_bytes(current, restores) if restores is not None else None
        data = exact if exact is not None else cs.encoded(current, new_text(current, planned))
        if dry_run:
            out.write(f"Dry run: nothing was written. The change to {path} would be:\n")
            out.write(cs.unified_diff(current, data.decode("utf-8-sig")))
            return 0
        saved = cs.backup(current)
        try:
            guaranteed = cs.write_bytes(current, data)
        except BaseException:
            if saved is not None:  # nothing was changed: no backup of it either
                saved.unlink(missing_ok=True)
            raise
    except cs.SettingsError as exc:
        err.write(f"{exc}\n")
        return 1
    except OSError as exc:
        err.write(f"Nothing was changed in {path}: {exc.strerror or exc}\n")
        return 1
    log.info("%s: %s changed (backup %s)", what, path, saved)
    out.write(planned.message + "\n")
    if exact is not None:
        out.write("The file is back to the very bytes it had before.\n")
    if saved is not None:
        out.write(f"Backup of the previous settings: {saved}\n")
    else:
        out.write(f"{path} did not exist; it was created (no backup needed).\n")
    if not guaranteed:
        out.write(_NOT_GUARANTEED + "\n")
    out.write("Start a new Claude Code session to see the change.\n")
    return 0


def new_text(current: cs.SettingsFile, plan: cs.Plan) -> str:
    """The file's text after `plan`, every byte the plan does not change kept."""
    assert plan.data is not None
    text = cs.original_text(current)
    try:
        if not text.strip():
            return cs.render(plan.data)
        return apply_changes(text, current.data, plan.data)
    except (ValueError, RecursionError) as exc:
        raise cs.SettingsError(
            f"{current.path} could not be edited in place ({exc}); nothing was changed."
        ) from None


def backups(path: Path) -> list[Path]:
    """The backups made beside `path`, newest first (by their time, then their number)."""
    prefix = f"{path.name}.{APP_NAME}-"

    def order(candidate: Path) -> tuple[str, int]:
        stamp = candidate.name[len(prefix) : -len(".bak")]
        when, _, number = stamp.partition("-")
        return when, int(number) if number.isdigit() else 0

    try:
        found = [p for p in path.parent.glob(f"{prefix}*.bak") if p.is_file()]
    except OSError:
        return []
    return sorted(found, key=order, reverse=True)


def restored_bytes(current: cs.SettingsFile, restores: Planner) -> bytes | None:
    """The bytes of the newest backup, when planning `restores` on them again gives exactly
    what the file holds now (nothing else changed since); None otherwise."""
    from claude_usage_gauge.files import read_regular

    found = backups(current.path)
    if not found or current.original is None:
        return None
    try:
        raw = read_regular(found[0], cs.MAX_SETTINGS_BYTES, ours=True)
        before = _as_settings(current, found[0], raw)
        plan = restores(before.data)
        if plan.data is None:
            return None
        again = cs.encoded(before, new_text(before, plan))
    except (OSError, cs.SettingsError):
        return None
    return raw if again == current.original else None


def _as_settings(current: cs.SettingsFile, where: Path, raw: bytes) -> cs.SettingsFile:
    try:
        data = json.loads(raw.decode("utf-8-sig")) if raw.strip() else {}
    except (ValueError, RecursionError) as exc:
        raise cs.SettingsError(f"{where} is not a settings file") from exc
    if not isinstance(data, dict):
        raise cs.SettingsError(f"{where} is not a settings file")
    return cs.SettingsFile(current.path, current.target, raw, data, current.mode)
