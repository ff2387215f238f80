"""What counts as a credentials backup, and what may be put back.

A reset claims its backup's name by creating empty files, then moves the sign-in onto them. A
reset killed in between leaves those empty claims behind; they are not backups: never listed,
never restored, and removed once they are clearly abandoned (older than a minute, far longer
than a reset takes, so another process's claim in flight is left alone). And a restore only
ever installs a file that holds a Claude Code sign-in: anything else would sign Claude Code out.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path

from claude_usage_gauge.core.errors import UsageError
from claude_usage_gauge.files import read_regular

ABANDONED_AFTER_SECONDS = 60.0


def is_placeholder(path: Path) -> bool:
    """An empty claim left by a reset (a real file of 0 bytes), not a backup."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == 0


def remove_abandoned(
    backups_dir: Path, suffixes: tuple[str, ...], now: float | None = None
) -> None:
    """Remove empty claims older than a minute (a reset killed between claim and move)."""
    cutoff = (time.time() if now is None else now) - ABANDONED_AFTER_SECONDS
    try:
        entries = list(os.scandir(backups_dir))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith("credentials-") or not entry.name.endswith(suffixes):
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_size == 0 and info.st_mtime < cutoff:
                os.unlink(entry.path)


def not_restorable(path: Path, limit: int) -> str | None:
    """Why the file at `path` may not be put back (it holds no Claude Code sign-in), or None."""
    from claude_usage_gauge.sources.credentials import credentials_from_bytes

    try:
        credentials_from_bytes(read_regular(path, limit), str(path))
    except OSError as exc:
        return exc.strerror or "it cannot be read"
    except UsageError:
        return "it holds no sign-in"
    return None
