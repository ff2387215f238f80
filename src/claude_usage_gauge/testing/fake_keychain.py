"""An in-memory `SecretStore`, standing in for the macOS Keychain where there is none.

It behaves like the real one at the interface: a missing item reads as None, deleting a missing
item is fine, and a locked store fails every call with the same `UsageError` kind.
"""

from __future__ import annotations

from claude_usage_gauge.core.errors import ErrorKind, UsageError


class FakeSecretStore:
    def __init__(self, items: dict[tuple[str, str], str] | None = None) -> None:
        # (service, account) -> value; public so tests can look inside.
        self.items: dict[tuple[str, str], str] = dict(items or {})
        # A locked Keychain (or a denied access prompt): every call fails.
        self.locked = False

    def get(self, service: str, account: str) -> str | None:
        self._check_unlocked(service)
        return self.items.get((service, account))

    def set(self, service: str, account: str, value: str) -> None:
        self._check_unlocked(service)
        self.items[(service, account)] = value

    def delete(self, service: str, account: str) -> None:
        self._check_unlocked(service)
        self.items.pop((service, account), None)

    def _check_unlocked(self, service: str) -> None:
        if self.locked:
            raise UsageError(
                ErrorKind.BAD_CREDENTIALS,
                f'The Keychain would not give up the item "{service}": it is locked.',
            )
