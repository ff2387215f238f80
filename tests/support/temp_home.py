"""A temporary Claude Code config dir and app folders, for tests that drive the refresh cycle
in-process (the CLI tests use `cli_home`, which runs the real command)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.refresh import Refresher
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from tests.support.clock import FakeClock

TOKEN = "sk-ant-oat01-RefreshTestToken4Kd9Lq2Wm7Zr0Vt5Ly8Pb3Nx6Fc1Gs"
NEW_TOKEN = "sk-ant-oat01-RefreshTestTokenRenewed2Hs7Jd4Kw9Qp1Vb6Xm3Zn8Ct5"
INTERVAL = 180.0


@dataclass
class TempHome:
    """Claude Code's config dir (credentials file) and the app's own directories, in tmp."""

    root: Path
    clock: FakeClock
    _mtime_ns: int = field(default=1_700_000_000_000_000_000, init=False)

    @property
    def claude_dir(self) -> Path:
        return self.root / "claude"

    @property
    def credentials_path(self) -> Path:
        return self.claude_dir / ".credentials.json"

    @property
    def environ(self) -> dict[str, str]:
        return {"CLAUDE_CONFIG_DIR": str(self.claude_dir), "HOME": str(self.root / "home")}

    @property
    def home(self) -> ClaudeHome:
        return ClaudeHome.from_environ(self.environ)

    def paths(self, state_dir: Path | None = None) -> AppPaths:
        return AppPaths(
            state_dir=state_dir or self.root / "state" / "claude-usage-gauge",
            data_dir=self.root / "data",
            log_dir=self.root / "log",
            config_dir=self.root / "config",
        )

    def write_credentials(
        self, token: str = TOKEN, *, expires_in: timedelta = timedelta(hours=8)
    ) -> None:
        """Write the file as Claude Code does, expiry relative to the fake clock.

        Each write gets a later mtime than the last, so the credentials signature always sees a
        change even when two writes land within one filesystem timestamp tick.
        """
        self.claude_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        expires = self.clock() + expires_in
        document = {
            "claudeAiOauth": {
                "accessToken": token,
                "refreshToken": "sk-ant-ort01-RefreshTestRefreshToken",
                "expiresAt": int(expires.timestamp() * 1000),
                "scopes": ["user:inference", "user:profile"],
                "subscriptionType": "max",
                "rateLimitTier": None,
            },
            "mcpOAuth": {},
        }
        self.credentials_path.write_text(json.dumps(document))
        self.credentials_path.chmod(0o600)
        self._mtime_ns += 1_000_000_000
        os.utime(self.credentials_path, ns=(self._mtime_ns, self._mtime_ns))

    def refresher(
        self, api: FakeUsageAPI, *, store: Store | None = None, interval: float = INTERVAL
    ) -> Refresher:
        return Refresher(
            store=store or Store(self.paths()),
            settings=Settings(api_base=api.url, poll_interval=interval),
            home=self.home,
            clock=self.clock,
            jitter=lambda: 0.5,
        )
