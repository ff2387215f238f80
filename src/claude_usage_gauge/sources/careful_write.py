"""Replace a file that another program (Claude Code) also writes, without losing its change.

Checking "did it change since we read it?" and then renaming a new file over it leaves a window:
an edit that lands between the check and the rename is overwritten while we report success. No
lock helps, since Claude Code takes none of ours. So the new file is swapped in with an atomic
exchange (Linux `renameat2(RENAME_EXCHANGE)`, macOS `renamex_np(RENAME_SWAP)`): afterwards the
temporary name holds exactly what was in place at that instant, and if that is not what we read,
the exchange is undone and the change is kept. Where no exchange exists (Windows, old kernels,
some filesystems) the check is repeated right before the rename and the caller is told that the
result could not be guaranteed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from pathlib import Path

from claude_usage_gauge.files import fsync_dir, read_regular

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # Linux
_RENAME_SWAP = 2  # macOS
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV}


class ChangedMeanwhile(Exception):
    """The file changed after it was read; what is there now was kept (and `kept_at` too)."""

    def __init__(self, path: Path, kept_at: Path | None = None) -> None:
        super().__init__(str(path))
        self.path = path
        self.kept_at = kept_at


def _exchange(first: str, second: str) -> bool:
    """Swap two names atomically; False where the system or filesystem cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    if sys.platform == "darwin":
        swap = getattr(libc, "renamex_np", None)
        args: tuple[object, ...] = (os.fsencode(first), os.fsencode(second), _RENAME_SWAP)
    else:
        swap = getattr(libc, "renameat2", None)
        a, b = os.fsencode(first), os.fsencode(second)
        args = (_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE)
    if swap is None:
        return False
    if swap(*args) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), first)


def _current(path: Path, limit: int) -> bytes | None:
    try:
        return read_regular(path, limit)
    except FileNotFoundError:
        return None


def replace_if_unchanged(
    target: Path, expected: bytes | None, data: bytes, *, mode: int, limit: int
) -> bool:
    """Put `data` at `target` (with `mode`) only if `target` still holds `expected` (None: it
    must not exist). True when that was guaranteed atomically, False when this system could
    only check right before the rename. Raises ChangedMeanwhile, or OSError."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if expected is None:
            try:
                # A link fails if the name exists: a file made meanwhile is never replaced.
                os.link(tmp, target)
            except FileExistsError:
                raise ChangedMeanwhile(target) from None
            return True
        if _current(target, limit) != expected:
            raise ChangedMeanwhile(target)
        if _exchange(str(tmp), str(target)):
            try:
                displaced = _current(tmp, limit)
            except OSError:  # whatever it is, it is not what we read: put it back
                displaced = None
            if displaced != expected:
                _undo(tmp, target)
            return True
        os.replace(tmp, target)
        return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
        fsync_dir(target.parent)


def _undo(tmp: Path, target: Path) -> None:
    """An edit landed between our check and the exchange: put it back in place."""
    if _exchange(str(tmp), str(target)):
        raise ChangedMeanwhile(target)
    # The exchange worked a moment ago and not now: keep the other edit under a name of its own.
    kept = target.with_name(f"{target.name}.kept-{os.getpid()}")
    os.replace(tmp, kept)
    raise ChangedMeanwhile(target, kept_at=kept)
