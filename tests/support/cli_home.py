"""A throwaway user home for running the real `claude-usage-gauge` command in a subprocess.

The home holds Claude Code's credentials file exactly as Claude Code writes it (0600, the sign-in
under `claudeAiOauth` beside other top-level keys), and every directory the app may write to
(XDG state, data, config and cache) lives inside it, so `scan_for_token` can prove that nothing
the app wrote, printed or logged carries the token.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from claude_usage_gauge.testing import claude_code
from claude_usage_gauge.testing.claude_code import DEFAULT_SCOPES

APP_DIR = "claude-usage-gauge"
TOKEN_HEAD = "sk-ant-oat01-"
# Distinctive bodies: found anywhere, they can only have come from the credentials file.
TOKEN_BODY = "CliTestToken7Qx2Vb9Lm4Np8Rs3Tu6Wy1Za5Cd0Ef-Gh_Jk"
TOKEN = TOKEN_HEAD + TOKEN_BODY
SECOND_TOKEN = TOKEN_HEAD + "CliTestTokenSecond3Hd8Kq1Wm6Zr0Vt5Ly9Pb2Nx7Fc4Gs"
REFRESH_TOKEN = "sk-ant-ort01-CliTestRefresh5Mn0Bv4Cx8Zl3Kj7Hg2Fd6Sa1Qw9Er"
# Another tool's data, kept in the same file by Claude Code; it must survive anything we do.
OTHER_KEYS: dict[str, object] = {
    "mcpOAuth": {
        "example-server|1a2b3c": {
            "serverName": "example-server",
            "serverUrl": "https://mcp.example.invalid/sse",
            "accessToken": "mcp-access-not-ours",
            "expiresAt": 1_900_000_000_000,
        }
    }
}
CLI_TIMEOUT = 60.0

T = TypeVar("T")


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def credentials_document(
    token: str = TOKEN,
    *,
    expires_in: timedelta | None = timedelta(hours=8),
    scopes: Sequence[str] | None = DEFAULT_SCOPES,
    subscription_type: str | None = "max",
    rate_limit_tier: str | None = "default_claude_max_5x",
    other_keys: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Claude Code's document with this suite's refresh token and other tools' keys."""
    return claude_code.credentials_document(
        token,
        refresh_token=REFRESH_TOKEN,
        expires_in=expires_in,
        scopes=scopes,
        subscription_type=subscription_type,
        rate_limit_tier=rate_limit_tier,
        other_keys=OTHER_KEYS if other_keys is None else other_keys,
    )


@dataclass
class CliHome:
    """A user home under `root`, with the env a subprocess of the CLI runs in."""

    root: Path
    api_base: str
    # Kept out of repr (pytest prints fixtures on failure): they may hold test tokens.
    env: dict[str, str] = field(default_factory=dict, repr=False)
    # Every secret ever written into this home, so a rewritten token is looked for too.
    secrets: list[str] = field(default_factory=list, repr=False)
    # More files or folders that may hold a token (another account's sign-in and backups).
    token_holders: list[Path] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLAUDE_", "XDG_")) and k not in ("PYSTRAY_BACKEND",)
        }
        env.update(
            HOME=str(self.root),
            XDG_STATE_HOME=str(self.root / ".local" / "state"),
            XDG_DATA_HOME=str(self.root / ".local" / "share"),
            XDG_CONFIG_HOME=str(self.root / ".config"),
            XDG_CACHE_HOME=str(self.root / ".cache"),
            CLAUDE_USAGE_GAUGE_API_BASE=self.api_base,
            PYTHONDONTWRITEBYTECODE="1",
        )
        self.env = env
        self.secrets = [TOKEN, REFRESH_TOKEN]

    # -- where things are ------------------------------------------------------------------

    @property
    def claude_dir(self) -> Path:
        return self.root / ".claude"

    @property
    def credentials_path(self) -> Path:
        return self.claude_dir / ".credentials.json"

    @property
    def state_dir(self) -> Path:
        return self.root / ".local" / "state" / APP_DIR

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def backups_dir(self) -> Path:
        return self.root / ".local" / "share" / APP_DIR / "credential-backups"

    def clone(self, root: Path, api_base: str) -> CliHome:
        """A copy of this home (credentials, store, logs, modes kept) that talks to `api_base`.

        Lets many tests start from a state the real command made, without making it again.
        """
        shutil.copytree(self.root, root, symlinks=True)
        copy = CliHome(root, api_base)
        copy.secrets = list(self.secrets)
        return copy

    def set_api_base(self, url: str) -> None:
        self.api_base = url
        self.env["CLAUDE_USAGE_GAUGE_API_BASE"] = url

    # -- the credentials file --------------------------------------------------------------

    def write_credentials(
        self,
        token: str = TOKEN,
        *,
        expires_in: timedelta | None = timedelta(hours=8),
        scopes: Sequence[str] | None = DEFAULT_SCOPES,
        other_keys: Mapping[str, object] | None = None,
    ) -> bytes:
        """Write the file as Claude Code does (pretty JSON, 0600 in a 0700 dir); the bytes."""
        document = credentials_document(
            token, expires_in=expires_in, scopes=scopes, other_keys=other_keys
        )
        return self.write_raw(json.dumps(document, indent=2).encode())

    def write_document(self, document: object) -> bytes:
        return self.write_raw(json.dumps(document).encode())

    def write_raw(self, data: bytes) -> bytes:
        self.claude_dir.mkdir(mode=0o700, exist_ok=True)
        for secret in (TOKEN, SECOND_TOKEN, REFRESH_TOKEN):
            if secret.encode() in data and secret not in self.secrets:
                self.secrets.append(secret)
        fd = os.open(self.credentials_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return data

    def remove_credentials(self) -> None:
        self.credentials_path.unlink(missing_ok=True)

    # -- running the command ---------------------------------------------------------------

    def run(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = CLI_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        """`python -m claude_usage_gauge *args` in this home; stdin is empty, never a terminal."""
        return subprocess.run(
            [sys.executable, "-m", "claude_usage_gauge", *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**self.env, **(env or {})},
            cwd=self.root,
            timeout=timeout,
            check=False,
        )

    def run_many(
        self, argvs: Sequence[Sequence[str]], *, env: Mapping[str, str] | None = None
    ) -> list[subprocess.CompletedProcess[str]]:
        """Start every command at once (one thread each) and wait for all of them."""
        with ThreadPoolExecutor(max_workers=max(len(argvs), 1)) as pool:
            futures = [pool.submit(self.run, *argv, env=env) for argv in argvs]
            return [future.result() for future in futures]

    def status_json(self, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
        """`status --json [args]`, checked clean, with its one JSON object parsed."""
        proc = self.run("status", "--json", *args)
        self.assert_clean(proc)
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, proc.stdout
        data = json.loads(lines[0])
        assert isinstance(data, dict)
        return proc, data

    # -- what must never happen ------------------------------------------------------------

    def _needles(self) -> list[str]:
        needles: list[str] = []
        for secret in self.secrets:
            body = secret.split("-", 3)[-1]
            # The whole token, its random part, and a slice of it (a truncated quote).
            needles += [secret, body, body[6:22]]
        return needles

    def _allowed_holder(self, path: Path) -> bool:
        """The credentials file and the backups of it legitimately hold the token."""
        if path == self.credentials_path:
            return True
        return any(
            path.is_relative_to(holder) for holder in [self.backups_dir, *self.token_holders]
        )

    def scan_for_token(self, outputs: Iterable[str] = ()) -> None:
        """Assert no token (nor its distinctive part) is in `outputs` or in any file under the
        home other than the credentials file and its backups."""
        needles = self._needles()
        for text in outputs:
            for needle in needles:
                assert needle not in text, f"token material in output: {needle[:12]}…"
        for path in sorted(self.root.rglob("*")):
            if path.is_symlink() or not path.is_file() or self._allowed_holder(path):
                continue
            data = path.read_bytes()
            for needle in needles:
                assert needle.encode() not in data, (
                    f"token material in {path.relative_to(self.root)}"
                )

    def assert_clean(self, *procs: subprocess.CompletedProcess[str]) -> None:
        """No traceback and no token in any output, and no token in any file we wrote."""
        outputs: list[str] = []
        for proc in procs:
            for text in (proc.stdout, proc.stderr):
                assert "Traceback" not in text, text
                outputs.append(text)
        self.scan_for_token(outputs)


def make_home(tmp_path: Path, api_base: str, name: str = "home") -> CliHome:
    return CliHome(tmp_path / name, api_base)


# -- checks shared by the CLI tests ------------------------------------------------------------

STATUS_KEYS = {"windows", "extra_usage", "fetched_at", "source", "stale", "error", "claude_code"}
WINDOW_KEYS = {"id", "label", "percent", "resets_at"}
EXTRA_KEYS = {"enabled", "used", "limit", "currency", "percent"}
ERROR_KEYS = {"kind", "message", "retry_at"}
EVENT_KEYS = {"event", "kind", "message", "request_id", "at"}


def assert_status_shape(data: Mapping[str, object]) -> None:
    """`status --json` has exactly the documented keys, with the documented types."""
    assert set(data) == STATUS_KEYS, sorted(data)
    windows = data["windows"]
    assert isinstance(windows, list)
    for window in windows:
        assert isinstance(window, dict)
        assert set(window) == WINDOW_KEYS, sorted(window)
        assert isinstance(window["id"], str)
        assert isinstance(window["label"], str)
        assert isinstance(window["percent"], int | float)
        assert window["resets_at"] is None or isinstance(window["resets_at"], str)
    extra = data["extra_usage"]
    assert extra is None or (isinstance(extra, dict) and set(extra) == EXTRA_KEYS), extra
    assert data["fetched_at"] is None or isinstance(data["fetched_at"], str)
    assert data["source"] in (None, "api", "statusline", "claude_code")
    assert isinstance(data["stale"], bool)
    error = data["error"]
    assert error is None or (isinstance(error, dict) and set(error) == ERROR_KEYS), error
    event = data["claude_code"]
    assert event is None or (isinstance(event, dict) and set(event) == EVENT_KEYS), event


def error_kind(data: Mapping[str, object]) -> str | None:
    error = data["error"]
    if error is None:
        return None
    assert isinstance(error, dict)
    kind = error["kind"]
    assert isinstance(kind, str)
    return kind


def percents(data: Mapping[str, object]) -> dict[str, float]:
    windows = data["windows"]
    assert isinstance(windows, list)
    return {str(w["id"]): float(w["percent"]) for w in windows}


def parse_time(raw: object) -> datetime:
    assert isinstance(raw, str), raw
    value = datetime.fromisoformat(raw)
    assert value.tzinfo is not None, raw
    return value


def in_parallel(*calls: Callable[[], T]) -> list[T]:
    """Run independent scenarios (each in its own home) side by side; re-raises failures."""
    with ThreadPoolExecutor(max_workers=max(len(calls), 1)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def seed_home(root: Path) -> tuple[CliHome, dict[str, object]]:
    """A home where the real command fetched the fake's default usage once: the store is fresh.

    Clone it (`CliHome.clone`) to start a test from real stored data without making it again.
    """
    from claude_usage_gauge.testing.fake_api import FakeUsageAPI

    with FakeUsageAPI() as api:
        home = CliHome(root, api.url)
        home.write_credentials()
        proc, data = home.status_json()
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert api.request_count == 1
    return home, data
