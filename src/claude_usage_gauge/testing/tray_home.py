"""A temporary user for tests that run the real tray: credentials as Claude Code writes them,
private app directories, and the environment of whichever desktop or bus the test brought."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.menu import Entry, MenuContext, build_menu
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.view import build_view
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file

# A token that must never appear in anything the app writes, prints or shows.
E2E_TOKEN = "sk-ant-oat01-E2eTokenDoNotLeak_" + "x" * 40


class TrayHome:
    """`session_env` is the desktop's or the bus's environment; `display=False` drops DISPLAY,
    as on a Wayland session, to show a backend needs none."""

    def __init__(
        self,
        root: Path,
        api_url: str,
        session_env: Mapping[str, str],
        token: str = E2E_TOKEN,
        *,
        display: bool = True,
    ) -> None:
        self.root = root
        document = credentials_document(
            token,
            refresh_token="sk-ant-ort01-RefreshDoNotLeak",
            rate_limit_tier=None,
            other_keys={"mcpOAuth": {"kept": True}},
        )
        write_credentials_file(root / ".claude", document, indent=None)
        self.env = dict(
            session_env,
            HOME=str(root),
            XDG_STATE_HOME=str(root / "state"),
            XDG_DATA_HOME=str(root / "data"),
            XDG_CONFIG_HOME=str(root / "config"),
            XDG_CACHE_HOME=str(root / "cache"),
            CLAUDE_USAGE_GAUGE_API_BASE=api_url,
        )
        self.env.pop("CLAUDE_CONFIG_DIR", None)
        if not display:
            self.env.pop("DISPLAY", None)
        self.paths = AppPaths(
            state_dir=root / "state" / APP_NAME,
            data_dir=root / "data" / APP_NAME,
            log_dir=root / "state" / APP_NAME / "log",
            config_dir=root / "config" / APP_NAME,
        )

    @property
    def credentials(self) -> Path:
        return self.root / ".claude" / ".credentials.json"

    def launch(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "claude_usage_gauge", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def log_text(self) -> str:
        return "".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(self.paths.log_dir.glob("*.log*"))
        )

    def menu(self) -> tuple[Entry, ...]:
        """The tray's menu for the stored state, built the same way as the app does."""
        state = Store(self.paths).read()
        now = datetime.now(UTC)
        # As the app builds it on Linux: autostart is available, so "Start at login" is listed.
        from claude_usage_gauge.sources.credential_backups import list_backups

        backups = list_backups(self.paths.backups_dir)
        context = MenuContext(
            plan="max",
            autostart_on=False,
            credentials_found=self.credentials.exists(),
            # As the app gathers it: the Restore entry is there once a backup is.
            newest_backup=f"{backups[0].created_at.astimezone():%Y-%m-%d %H:%M}"
            if backups
            else None,
        )
        return build_menu(build_view(state, now, Settings()), now, context)

    def menu_position(self, text: str, *, skip_disabled: bool = True) -> int:
        """How many Down presses select `text` in the tray's menu. GTK's keyboard skips
        separators and disabled rows (both backends show information rows disabled)."""
        selectable = [
            e
            for e in self.menu()
            if not e.is_separator and not (skip_disabled and not e.selectable)
        ]
        for index, entry in enumerate(selectable):
            if entry.text == text:
                return index + 1
        raise AssertionError(f"{text!r} not in menu: {[e.text for e in selectable]}")
