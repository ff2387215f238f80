"""How the app writes its own files: private (folders 0700, files 0600) and atomic.

Every folder of our own is 0700 and every file we write is 0600, because the store holds a
fingerprint of the token and the backups hold credentials. This module is on the statusline's
fast path (the bridge makes its folder), so it imports only `os` at the top.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def ensure_private_dir(path: str | os.PathLike[str]) -> None:
    """`path` exists and is 0700, and so is every folder this call had to create for it.

    os.makedirs gives `mode` to the leaf only: a missing parent such as our own
    ~/.local/state/claude-usage-gauge would come out 0755. Existing folders keep their modes,
    except the leaf, which is ours.
    """
    missing: list[str] = []
    current = os.path.abspath(os.fspath(path))
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
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
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    import contextlib

    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
