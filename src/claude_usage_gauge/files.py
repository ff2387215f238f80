"""How the app reads files others may have touched, and writes its own: bounded, private, atomic.

Reading: a named pipe at a path we read blocks `open()` until a writer comes, which never
happens; a device such as /dev/zero never ends; a sparse file claims gigabytes. So every read of
a file whose shape we do not control (Claude Code's credentials and settings, and our own state,
bridge and settings files, which another process or user could replace) opens without blocking,
requires a regular file, refuses one larger than the caller's cap before reading it, and reads
at most one byte more than the cap. The errors are `OSError`s whose `strerror` is a sentence.

Writing: every folder of our own is 0700 and every file we write is 0600, because the store
holds a fingerprint of the token and the backups hold credentials; and a folder we write into
must be ours alone (see `folders`), or nothing is written there.

This module is on the statusline's fast path (the bridge reads and writes its file), so it
imports only `os` (with `errno` and `stat`, which cost nothing) at the top.
"""

from __future__ import annotations

import errno
import os
import stat
import sys

from claude_usage_gauge.folders import unsafe_folder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import BinaryIO

# -- reading -----------------------------------------------------------------------------------

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)


class NotRegularFile(OSError):
    """The path holds a pipe, a device or a socket, not a file."""


class FileTooLarge(OSError):
    """The file is larger than anything of its kind could be."""


class ForeignFile(PermissionError):
    """A file of ours that belongs to another user: its contents are not ours to trust."""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str], limit: int, *, ours: bool = False) -> BinaryIO:
    """`path` opened for reading, once it is known to be a regular file of at most `limit`
    bytes (and, with `ours`, owned by this user). Raises FileNotFoundError, IsADirectoryError,
    NotRegularFile, FileTooLarge, ForeignFile or another OSError."""
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        name = os.fspath(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory, not a file", name)
        if not stat.S_ISREG(info.st_mode):
            kind = _kind(info.st_mode)
            raise NotRegularFile(errno.EINVAL, f"it is {kind}, not a file", name)
        if info.st_size > limit:
            raise FileTooLarge(
                errno.EFBIG, f"it is too large ({info.st_size} bytes, at most {limit})", name
            )
        if ours and sys.platform != "win32" and info.st_uid != os.geteuid():
            raise ForeignFile(
                errno.EPERM, f"it belongs to another user (uid {info.st_uid}), not to you", name
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int, *, ours: bool = False) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (see `open_regular`); a file that
    grew past the cap while being read is refused too."""
    with open_regular(path, limit, ours=ours) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(
            errno.EFBIG, f"it is too large (more than {limit} bytes)", os.fspath(path)
        )
    return data


# -- folders and writing -----------------------------------------------------------------------


class UnsafeFolder(PermissionError):
    """A folder we would write into is not ours alone; `strerror` names it and the fix."""


def refuse_unsafe_folder(path: str | os.PathLike[str], *, ours: bool = True) -> None:
    """Raise `UnsafeFolder` unless the existing folder `path` is ours alone (see `folders`)."""
    reason = unsafe_folder(path, ours=ours)
    if reason is not None:
        raise UnsafeFolder(errno.EPERM, reason, os.fspath(path))


def ensure_private_dir(path: str | os.PathLike[str]) -> None:
    """`path` exists, is ours alone and 0700, and so is every folder this call had to create.

    os.makedirs gives `mode` to the leaf only: a missing parent such as our own
    ~/.local/state/claude-usage-gauge would come out 0755. Existing folders keep their modes,
    except the leaf, which is ours. Raises `UnsafeFolder` (before making anything) when the
    folder, or one on the way to it, belongs to someone else or can be changed by anyone.
    """
    missing: list[str] = []
    current = os.path.abspath(os.fspath(path))
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    refuse_unsafe_folder(current, ours=not missing)
    for folder in reversed(missing):
        try:  # noqa: SIM105 (contextlib costs the statusline path an import)
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass  # made meanwhile by another process (or a file is in the way: the next fails)
    if os.name == "posix":
        try:
            if os.stat(path).st_mode & 0o777 != 0o700:
                os.chmod(path, 0o700)
        except OSError:
            pass


def write_private_file(path: Path, data: bytes) -> None:
    """Write atomically, mode 0600, into a 0700 directory of our own."""
    ensure_private_dir(path.parent)
    write_atomically(path, data, mode=0o600)


def write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """A temp file beside `path` (made 0600 by mkstemp, then `mode`), fsync, replace, fsync dir.

    A reader sees the old file or the new one, never a torn mix; a crash mid-write leaves the old.
    The directory must exist.
    """
    import contextlib
    import tempfile

    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if os.name == "posix" and mode != 0o600:
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX; elsewhere the rename is all there is)."""
    if os.name != "posix":
        return
    import contextlib

    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
