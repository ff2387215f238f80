"""Where the app keeps its files, and the two ways it writes them: private and atomic.

Every directory of our own is 0700 and every file we write is 0600, because the store holds a
fingerprint of the token and the backups hold credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.state_format import STORE_FILE_NAME
from claude_usage_gauge.statusline.bridge_file import BRIDGE_FILE_NAME

# Under the state and data folders: one sub-folder per account other than the primary.
ACCOUNTS_DIR = "accounts"


@dataclass(frozen=True, slots=True)
class AppPaths:
    state_dir: Path  # the shared store and its locks
    data_dir: Path  # credential backups
    log_dir: Path
    config_dir: Path

    @property
    def store_file(self) -> Path:
        return self.state_dir / STORE_FILE_NAME

    @property
    def bridge_file(self) -> Path:
        # Written by the statusline bridge alone (no lock: one atomic replace, newest wins).
        return self.state_dir / BRIDGE_FILE_NAME

    @property
    def notices_file(self) -> Path:
        # The tray's own: which thresholds it already told (notice_memory_file.py says why).
        return self.state_dir / "notices.json"

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

    def for_account(self, name: str) -> AppPaths:
        """The room of a second (third...) Claude account: its own store, locks (so its own gate),
        bridge, hook event, history page and credential backups. Logs and settings stay shared.
        The primary account keeps the paths above, so nothing moves for a single account."""
        return replace(
            self,
            state_dir=self.state_dir / ACCOUNTS_DIR / name,
            data_dir=self.data_dir / ACCOUNTS_DIR / name,
        )

    def folder_problems(self) -> list[str]:
        """What is wrong with any of our folders that exists, one sentence each, naming the
        folder and the fix: one that cannot be used (not ours alone, see `folders`), or one of
        ours opened to other users by hand (a `chmod 777`), which the next write narrows."""
        from claude_usage_gauge.folders import unsafe_folder

        seen: list[str] = []
        for folder in (self.state_dir, self.data_dir, self.log_dir, self.config_dir):
            if not folder.is_dir():
                continue
            problem = unsafe_folder(folder) or _opened_up(folder)
            if problem is not None and problem not in seen:
                seen.append(problem)
        return seen


def _opened_up(folder: Path) -> str | None:
    """Our own folder with a mode wider than 0700: what it holds was open to other users."""
    import os
    import stat

    if os.name != "posix":
        return None
    try:
        mode = stat.S_IMODE(folder.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"The folder {folder} is open to other users (mode {mode:04o}); claude-usage-gauge "
        f"narrows it to 0700 when it next writes there. Fix now: chmod 700 {folder}"
    )


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
