"""The security sweep's machinery: a home with a distinctive token, every command run in it,
and the search for that token (whole, its random part, every 16-character slice) in every
output and every file under the home. Shared by the sweep and the hostile-input tests.
"""

from __future__ import annotations

import json
import secrets
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claude_usage_gauge.testing import claude_code
from tests.support.cli_home import CliHome

# Fresh random parts every run: a match can only have come from this run's credentials file.
RANDOM_PART = secrets.token_urlsafe(48)[:60]
TOKEN = "sk-ant-oat01-SweepToken" + RANDOM_PART
REFRESH_RANDOM = secrets.token_urlsafe(48)[:60]
REFRESH = "sk-ant-ort01-SweepRefresh" + REFRESH_RANDOM
SLICE = 16


# -- looking for the token -----------------------------------------------------------------------


def _needles() -> list[tuple[str, str]]:
    """(what it is, the text): never put the text itself in an assertion message."""
    needles: list[tuple[str, str]] = []
    for name, secret, random_part in (
        ("access token", TOKEN, RANDOM_PART),
        ("refresh token", REFRESH, REFRESH_RANDOM),
    ):
        needles.append((f"the whole {name}", secret))
        needles.append((f"the random part of the {name}", random_part))
        needles += [
            (f"a {SLICE}-char slice of the {name} at {i}", secret[i : i + SLICE])
            for i in range(len(secret) - SLICE + 1)
        ]
    return needles


NEEDLES = _needles()


def leaks(text: str | bytes) -> list[str]:
    data = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
    return [name for name, needle in NEEDLES if needle in data]


def _is_allowed_holder(home: CliHome, path: Path) -> bool:
    """The credentials file and its backups hold the token by design."""
    if path == home.credentials_path:
        return True
    return path.is_relative_to(home.backups_dir)


def scan(home: CliHome, outputs: Iterable[tuple[str, str]] = ()) -> list[str]:
    """Every place the token was found: outputs (labelled) and files under the home."""
    found: list[str] = []
    for label, text in outputs:
        found += [f"{label}: {what}" for what in leaks(text)[:1]]
    for path in sorted(home.root.rglob("*")):
        if path.is_symlink() or not path.is_file() or _is_allowed_holder(home, path):
            continue
        hits = leaks(path.read_bytes())
        found += [f"{path.relative_to(home.root)}: {what}" for what in hits[:1]]
    return found


# -- a home and its commands ---------------------------------------------------------------------


def credentials_bytes() -> bytes:
    """The file as Claude Code writes it: the sign-in beside another tool's data, pretty JSON."""
    expires = int((datetime.now(UTC) + timedelta(hours=8)).timestamp() * 1000)
    document = {
        "claudeAiOauth": {
            "accessToken": TOKEN,
            "refreshToken": REFRESH,
            "expiresAt": expires,
            "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
            "subscriptionType": "max",
            "rateLimitTier": "default_claude_max_5x",
        },
        "mcpOAuth": {"srv|1": {"accessToken": "not-ours", "expiresAt": expires}},
    }
    return json.dumps(document, indent=2).encode()


def new_home(root: Path, api_base: str) -> CliHome:
    home = CliHome(root, api_base)
    home.write_raw(credentials_bytes())
    home.secrets = [TOKEN, REFRESH]
    return home


def statusline_input() -> str:
    """A statusline object as Claude Code hands it to its statusline command."""
    return json.dumps(claude_code.statusline_input())


@dataclass(frozen=True)
class FileMark:
    data: bytes
    mtime_ns: int
    inode: int
    mode: int


def mark(path: Path) -> FileMark | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return FileMark(path.read_bytes(), info.st_mtime_ns, info.st_ino, stat.S_IMODE(info.st_mode))


@dataclass
class Sweep:
    home: CliHome
    outputs: list[tuple[str, str]]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """One command; the credentials file must be exactly as it was before it."""
        before = mark(self.home.credentials_path)
        proc = self.home.run(*args, input=stdin)
        label = " ".join(args) or "(no arguments)"
        self.outputs += [(f"stdout of {label}", proc.stdout), (f"stderr of {label}", proc.stderr)]
        assert "Traceback" not in proc.stdout + proc.stderr, label
        if args[:2] not in (("credentials", "reset"), ("credentials", "restore")):
            assert mark(self.home.credentials_path) == before, f"{label} touched the credentials"
        return proc

    def assert_no_leak(self) -> None:
        found = scan(self.home, self.outputs)
        assert not found, "token material found:\n" + "\n".join(found)


STATE_READERS: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("status", "--json"),
    ("status", "--refresh"),
    ("doctor",),
)


def run_state_readers(sweep: Sweep) -> None:
    for argv in STATE_READERS:
        sweep.run(*argv)
    assert sweep.run("statusline", stdin=statusline_input()).returncode == 0
    sweep.run("statusline", "--format", "{five_hour} {stale}", stdin="")
    # What the command shows after the bridge recorded numbers, too.
    sweep.run("status", "--json")


def run_every_other_command(sweep: Sweep) -> None:
    home = sweep.home
    original = mark(home.credentials_path)
    assert original is not None
    sweep.run("--version")
    assert sweep.run("no-such-command").returncode == 2
    assert sweep.run("statusline", "install", "--dry-run").returncode == 0
    assert sweep.run("statusline", "install").returncode == 0
    assert sweep.run("statusline", "uninstall").returncode == 0
    for action in ("status", "enable", "status", "disable"):
        sweep.run("autostart", action)
    sweep.run("credentials", "list")
    reset = sweep.run("credentials", "reset", "--yes")
    assert reset.returncode == 0, reset.stdout
    assert not home.credentials_path.exists()
    backups = list(home.backups_dir.iterdir())
    assert [p.read_bytes() for p in backups] == [original.data]
    sweep.run("credentials", "list")
    sweep.run("status")  # signed out now
    sweep.run("doctor")
    assert sweep.run("credentials", "restore", "--yes").returncode == 0
    restored = mark(home.credentials_path)
    assert restored is not None
    assert (restored.data, restored.mtime_ns, restored.mode) == (
        original.data,
        original.mtime_ns,
        original.mode,
    )
    sweep.run("status", "--json")
