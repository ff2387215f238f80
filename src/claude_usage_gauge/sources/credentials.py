"""Find and read Claude Code's sign-in. Read only: we never write or refresh it.

Refresh tokens rotate, so a refresh made here could sign Claude Code out; an expired token is
reported and left for Claude Code to renew. On macOS the sign-in lives in the login Keychain (read
through a `SecretStore`), elsewhere in `<config dir>/.credentials.json`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.files import read_regular
from claude_usage_gauge.local_time import stamp
from claude_usage_gauge.sources.claude_home import LONG_LIVED_TOKEN_ENV, ClaudeHome

if TYPE_CHECKING:
    from claude_usage_gauge.sources.keychain import SecretStore

OAUTH_KEY = "claudeAiOauth"
PROFILE_SCOPE = "user:profile"
# A sign-in file is a few KiB; anything past this is not one (and is not read whole).
MAX_CREDENTIALS_BYTES = 1024 * 1024
# Claude Code stops using a token this long before it expires, and so do we.
EXPIRY_MARGIN = timedelta(minutes=5)

LOGIN_HINT = "Open Claude Code and run /login (or run `claude auth login` in a terminal)."

# The visible head of a token: its kind ("sk-ant-oat01-"), never any of the random part.
_TOKEN_KIND = re.compile(r"sk-[a-z]{1,8}-[a-z]{1,8}[0-9]{0,4}-")
# What an access token may hold: it goes into an HTTP header, where anything else is rejected by
# the client with an error that quotes the header, token and all.
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


@dataclass(frozen=True, slots=True)
class Credentials:
    access_token: str = field(repr=False)
    expires_at: datetime | None
    # None when the key is absent: older sign-ins did not record scopes, and those still work.
    scopes: tuple[str, ...] | None
    subscription_type: str | None
    rate_limit_tier: str | None
    # Where it was read, for people: a file path or 'Keychain item "…"'.
    location: str

    def masked_token(self) -> str:
        return mask_token(self.access_token)


def mask_token(token: str) -> str:
    """The token's kind and length only, e.g. "sk-ant-oat01-…(108 chars)"."""
    match = _TOKEN_KIND.match(token)
    head = match.group(0) if match and match.end() < len(token) else ""
    return f"{head}…({len(token)} chars)"


def read_credentials(home: ClaudeHome, secret_store: SecretStore | None = None) -> Credentials:
    """Claude Code's current sign-in: the Keychain item first (given a store), then the file.

    Raises UsageError NO_CREDENTIALS when there is none anywhere, BAD_CREDENTIALS when what is
    there cannot be used. Messages say where we looked and what to do, never what a file holds.
    """
    path = home.credentials_file
    keychain_problem: UsageError | None = None
    if secret_store is not None:
        try:
            value = secret_store.get(home.keychain_service, home.keychain_account)
            if value:
                return _parse(_decode_keychain_value(value), home.keychain_location)
        except UsageError as problem:
            # A locked Keychain, or an item without a sign-in (only other tools' data), may sit
            # beside a good file: the file decides, and this is told only if the file is no better.
            keychain_problem = problem
    try:
        # Never blocks on a pipe, never reads a device or a huge (sparse) file whole.
        raw = read_regular(path, MAX_CREDENTIALS_BYTES)
    except FileNotFoundError:
        if keychain_problem is not None:
            raise keychain_problem from None
        message = _not_found_message(home, secret_store)
        raise UsageError(ErrorKind.NO_CREDENTIALS, message) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f"Claude Code's sign-in file {path} could not be read ({reason}). Check that it is a "
            f"file you can read, or sign in again: {LOGIN_HINT}",
        ) from None
    try:
        return _parse(_decode_file(raw, path), str(path))
    except UsageError:
        if keychain_problem is not None:
            raise keychain_problem from None
        raise


def credentials_from_bytes(raw: bytes, location: str) -> Credentials:
    """The sign-in a credentials file's bytes hold; UsageError when they hold none."""
    return _parse(_decode_file(raw, Path(location)), location)


def _not_found_message(home: ClaudeHome, store: SecretStore | None) -> str:
    where = f"{home.credentials_file}"
    if store is not None:
        where = f"{home.keychain_location} or {where}"
    message = f"Not signed in to Claude Code: no sign-in found in {where}. {LOGIN_HINT}"
    if home.long_lived_token_set:
        message += (
            f" {LONG_LIVED_TOKEN_ENV} is set, but that kind of long-lived token (from "
            "`claude setup-token`) is not allowed to read usage; only a /login sign-in is."
        )
    return message


def _decode_file(raw: bytes, path: Path) -> object:
    if not raw.strip():
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f"Claude Code's sign-in file {path} is empty. {LOGIN_HINT}",
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        pass
    raise UsageError(
        ErrorKind.BAD_CREDENTIALS,
        f"Claude Code's sign-in file {path} is not valid JSON (it may be damaged). {LOGIN_HINT}",
    )


def _decode_keychain_value(value: str) -> object:
    """JSON, or JSON hex-encoded (how some Keychain writers store it)."""
    text = value.strip()
    if _HEX.fullmatch(text):
        with contextlib.suppress(UnicodeDecodeError):
            text = bytes.fromhex(text).decode("utf-8")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    raise UsageError(
        ErrorKind.BAD_CREDENTIALS,
        "Claude Code's Keychain item does not hold readable sign-in data. " + LOGIN_HINT,
    )


def _parse(document: object, location: str) -> Credentials:
    if not isinstance(document, dict):
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f"{_capital(location)} does not hold Claude Code sign-in data. {LOGIN_HINT}",
        )
    oauth = document.get(OAUTH_KEY)
    if not isinstance(oauth, dict):
        # Often the store exists only for other data (e.g. MCP server sign-ins): not signed in.
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f"Not signed in to Claude Code with a Claude account: {location} holds no Claude "
            f"sign-in. {LOGIN_HINT}",
        )
    token = oauth.get("accessToken")
    if not isinstance(token, str) or not token:
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f"Claude Code's sign-in in {location} has no access token. {LOGIN_HINT}",
        )
    if not _TOKEN_CHARS.fullmatch(token):
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f"Claude Code's sign-in in {location} has a damaged access token. {LOGIN_HINT}",
        )
    return Credentials(
        access_token=token,
        expires_at=_epoch_ms(oauth.get("expiresAt")),
        scopes=_scopes(oauth.get("scopes")),
        subscription_type=_optional_str(oauth.get("subscriptionType")),
        rate_limit_tier=_optional_str(oauth.get("rateLimitTier")),
        location=location,
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _epoch_ms(raw: object) -> datetime | None:
    from claude_usage_gauge.core.values import finite_number

    value = finite_number(raw)  # also None for an integer too big for a float
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _scopes(raw: object) -> tuple[str, ...] | None:
    if isinstance(raw, list):
        return tuple(item for item in raw if isinstance(item, str))
    if isinstance(raw, str):
        return tuple(raw.split())
    return None


def _optional_str(raw: object) -> str | None:
    return raw if isinstance(raw, str) and raw else None


def check_usable(creds: Credentials, now: datetime) -> None:
    """Raise when the usage endpoint would refuse this sign-in anyway, so we do not ask it.

    `now` must be timezone-aware. A missing scope is reported before expiry: waiting for Claude
    Code's refresh would not cure it.
    """
    if creds.scopes is not None and PROFILE_SCOPE not in creds.scopes:
        raise UsageError(
            ErrorKind.MISSING_SCOPE,
            f"This Claude Code sign-in is not allowed to read usage (it lacks the {PROFILE_SCOPE} "
            "permission, as long-lived tokens from `claude setup-token` do). Sign in with your "
            f"Claude account instead: {LOGIN_HINT}",
        )
    if creds.expires_at is not None and now >= creds.expires_at - EXPIRY_MARGIN:
        when = stamp(creds.expires_at)
        # In its last minutes the sign-in still works, but Claude Code is about to replace it
        # and we never refresh it ourselves: said as it is, not as "expired".
        said = (
            f"Claude Code's sign-in expires at {when}; usage is not read with it in its last "
            f"{EXPIRY_MARGIN.seconds // 60} minutes"
            if now < creds.expires_at
            else f"Claude Code's sign-in expired at {when}"
        )
        raise UsageError(
            ErrorKind.TOKEN_EXPIRED,
            f"{said}. Claude Code renews it when you next use it: open Claude Code and send any "
            "message; usage shows again right after.",
        )


def credentials_signature(home: ClaudeHome, secret_store: SecretStore | None = None) -> str:
    """A cheap string that changes whenever the sign-in changes. Never raises.

    The file is judged by its metadata (no read); the Keychain, which has none we can see, by a
    hash of its value.
    """
    parts: list[str] = []
    try:
        info = home.credentials_file.stat()
    except FileNotFoundError:
        parts.append("file:absent")
    except (OSError, ValueError) as exc:
        parts.append(f"file:error:{getattr(exc, 'errno', None)}")
    else:
        parts.append(f"file:{info.st_mtime_ns}:{info.st_size}:{info.st_ino}")
    if secret_store is not None:
        try:
            value = secret_store.get(home.keychain_service, home.keychain_account)
        except Exception:
            parts.append("keychain:error")
        else:
            if value is None:
                parts.append("keychain:absent")
            else:
                digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
                parts.append(f"keychain:{digest[:16]}")
    return " ".join(parts)


def token_fingerprint(token: str, salt: bytes) -> str:
    """The only thing derived from a token that we ever store: tells tokens apart, reveals none."""
    return hashlib.sha256(salt + token.encode("utf-8", "surrogatepass")).hexdigest()[:32]
