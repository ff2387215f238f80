"""Where the app keeps its files, and the two ways it writes them: private and atomic.

Every directory of our own is 0700 and every file we write is 0600, because the store holds a
fingerprint of the token and the backups hold credentials.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from claude_usage_tray import APP_NAME


@dataclass(frozen=True, slots=True)
class AppPaths:
    state_dir: Path  # the shared store and its locks
    data_dir: Path  # credential backups
    log_dir: Path
    config_dir: Path

    @property
    def store_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def bridge_file(self) -> Path:
        # Written by the statusline bridge alone (no lock: one atomic replace, newest wins).
        return self.state_dir / "bridge.json"

    @property
    def store_lock(self) -> Path:
        return self.state_dir / "state.lock"

    @property
    def fetch_lock(self) -> Path:
        return self.state_dir / "fetch.lock"

    @property
    def instance_lock(self) -> Path:
        return self.state_dir / "tray.lock"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "credential-backups"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{APP_NAME}.log"


def app_paths() -> AppPaths:
    # platformdirs is imported here, not at module level: it is small, but the statusline path
    # counts every millisecond.
    import platformdirs

    return AppPaths(
        state_dir=Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
    )


def ensure_private_dir(path: Path) -> Path:
    """Create `path` and any missing parents 0700 (existing parents are left alone)."""
    from claude_usage_tray.bridge_file import ensure_private_dir as make_private

    make_private(os.fspath(path))
    return path


def write_private_file(path: Path, data: bytes) -> None:
    """Write atomically, mode 0600, into a 0700 directory of our own."""
    ensure_private_dir(path.parent)
    write_atomically(path, data, mode=0o600)


def write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """A temp file beside `path` (made 0600 by mkstemp, then `mode`), fsync, replace, fsync dir.

    A reader sees the old file or the new one, never a torn mix; a crash mid-write leaves the old.
    The directory must exist.
    """
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
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
