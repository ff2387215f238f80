"""One Claude Code installation, as one value: where its sign-in, settings and state live.

Resolved once from the environment at an entry point (`ClaudeHome.from_environ`) and passed on,
so nothing below the entry points reads the environment to learn "which Claude Code". A second
installation (`CLAUDE_CONFIG_DIR=~/.claude-work claude`) is simply another value.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KEYCHAIN_SERVICE = "Claude Code-credentials"
CREDENTIALS_FILE_NAME = ".credentials.json"
SETTINGS_FILE_NAME = "settings.json"
STATE_FILE_NAME = ".claude.json"
CONFIG_DIR_ENV = "CLAUDE_CONFIG_DIR"
LONG_LIVED_TOKEN_ENV = "CLAUDE_CODE_OAUTH_TOKEN"  # noqa: S105 - a variable name, no secret


@dataclass(frozen=True, slots=True)
class ClaudeHome:
    config_dir: Path
    # Claude Code's own state file: `~/.claude.json` by default, inside the config dir when
    # CLAUDE_CONFIG_DIR is set.
    state_file: Path
    # The login Keychain item Claude Code keeps its sign-in in on macOS.
    keychain_service: str
    keychain_account: str
    # A long-lived inference-only token is set in the environment (it cannot read usage).
    long_lived_token_set: bool = False

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / CREDENTIALS_FILE_NAME

    @property
    def settings_file(self) -> Path:
        return self.config_dir / SETTINGS_FILE_NAME

    @property
    def keychain_location(self) -> str:
        return f'Keychain item "{self.keychain_service}"'

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ClaudeHome:
        """The installation Claude Code itself would use with this environment."""
        env = os.environ if environ is None else environ
        configured = env.get(CONFIG_DIR_ENV, "")
        # Claude Code takes the home the way Node does: USERPROFILE on Windows, HOME elsewhere.
        names = ("USERPROFILE", "HOME") if os.name == "nt" else ("HOME",)
        home = next((Path(env[name]) for name in names if env.get(name)), None) or Path.home()
        if configured:
            config_dir = Path(configured)
            state_file = config_dir / STATE_FILE_NAME
        else:
            config_dir = home / ".claude"
            state_file = home / STATE_FILE_NAME
        return cls(
            config_dir=config_dir,
            state_file=state_file,
            keychain_service=keychain_service_for(configured),
            keychain_account=env.get("USER") or _login_name(),
            long_lived_token_set=bool(env.get(LONG_LIVED_TOKEN_ENV)),
        )

    @classmethod
    def at(cls, config_dir: Path, *, user: str = "") -> ClaudeHome:
        """The installation in `config_dir`, as `CLAUDE_CONFIG_DIR=<config_dir> claude` sees it."""
        return cls(
            config_dir=config_dir,
            state_file=config_dir / STATE_FILE_NAME,
            keychain_service=keychain_service_for(str(config_dir)),
            keychain_account=user,
        )


def keychain_service_for(configured_dir: str) -> str:
    """Claude Code's Keychain item name: one per config directory when CLAUDE_CONFIG_DIR is set."""
    if not configured_dir:
        return KEYCHAIN_SERVICE
    import unicodedata  # only on this rarer path

    # Claude Code hashes the variable's text as given (NFC-normalised), not a resolved path.
    # surrogateescape: a name that is not valid UTF-8 still hashes (to its bytes) instead of
    # failing; Claude Code itself could not have made such an item, so it is simply not found.
    text = unicodedata.normalize("NFC", configured_dir)
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{KEYCHAIN_SERVICE}-{digest[:8]}"


def _login_name() -> str:
    import getpass  # only when $USER is missing

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""
