"""The secret store Claude Code uses on macOS, behind the three calls we need.

Only macOS keeps Claude Code's sign-in in a secret store (the login Keychain); elsewhere it is a
plain file and `default_secret_store` gives None. Tests use `testing.fake_keychain` in its place.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol

from claude_usage_gauge.core.errors import ErrorKind, UsageError


class SecretStore(Protocol):
    def get(self, service: str, account: str) -> str | None:
        """The stored value, or None when there is no such item."""
        ...

    def set(self, service: str, account: str, value: str) -> None:
        """Create or replace the item."""
        ...

    def delete(self, service: str, account: str) -> None:
        """Remove the item; a missing item is not an error."""
        ...


class KeyringStore:
    """The platform secret store through `keyring` (imported on first use: it is slow to load).

    Every failure becomes a `UsageError` in plain words, raised outside the `except` block so the
    backend's own exception (and anything it quoted) is neither shown nor chained.
    """

    def get(self, service: str, account: str) -> str | None:
        import keyring

        try:
            return keyring.get_password(service, account)
        except Exception:  # noqa: S110 - replaced by the plain-words error below
            pass
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f'The Keychain would not give up the item "{service}": it may be locked, or access '
            "was denied. Unlock the login Keychain (or allow access when asked), then try again.",
        )

    def set(self, service: str, account: str, value: str) -> None:
        import keyring

        try:
            keyring.set_password(service, account, value)
        except Exception:  # noqa: S110 - replaced by the plain-words error below
            pass
        else:
            return
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f'Could not save the Keychain item "{service}": the Keychain may be locked, or access '
            "was denied. Unlock it and try again.",
        )

    def delete(self, service: str, account: str) -> None:
        import keyring

        try:
            keyring.delete_password(service, account)
        except Exception:  # noqa: S110 - "no such item" and "not allowed" look alike; ask below
            pass
        else:
            return
        if self.get(service, account) is None:
            return
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            f'Could not remove the Keychain item "{service}": the Keychain may be locked, or '
            "access was denied. Unlock it and try again.",
        )


class CachingSecretStore:
    """Reads each item at most once per `ttl` seconds, for the long-running tray.

    The tray checks for a renewed sign-in every few seconds; on macOS each check would be a
    Keychain read, and each read of an item another program made may ask the user to allow
    it. A renewed sign-in is then seen within `ttl`. Writes pass straight through (and forget
    what was cached); reset and restore use the store underneath, never this cache.
    """

    def __init__(
        self, inner: SecretStore, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, str | None]] = {}

    def get(self, service: str, account: str) -> str | None:
        key = (service, account)
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        value = self.inner.get(service, account)
        self._cache[key] = (now, value)
        return value

    def set(self, service: str, account: str, value: str) -> None:
        self._cache.pop((service, account), None)
        self.inner.set(service, account, value)

    def delete(self, service: str, account: str) -> None:
        self._cache.pop((service, account), None)
        self.inner.delete(service, account)

    def clear(self) -> None:
        self._cache.clear()


def default_secret_store(platform: str = sys.platform) -> SecretStore | None:
    """The Keychain on macOS; None elsewhere, where Claude Code keeps only the file."""
    if platform == "darwin":
        return KeyringStore()
    return None
