"""The secret-store interface: the keyring-backed store and the in-memory fake behave alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import keyring
import keyring.backend
import keyring.errors
import pytest

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.sources.keychain import (
    CachingSecretStore,
    KeyringStore,
    SecretStore,
    default_secret_store,
)
from claude_usage_gauge.testing.fake_keychain import FakeSecretStore

SECRET = '{"claudeAiOauth": {"accessToken": "sk-ant-oat01-KeychainSecretValue_0123456789"}}'


class MemoryBackend(keyring.backend.KeyringBackend):
    """A real keyring backend kept in memory; `failing` makes it act like a locked Keychain."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}
        self.failing = False

    def get_password(self, service: str, username: str) -> str | None:
        self._maybe_fail()
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._maybe_fail()
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._maybe_fail()
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError("Item not found")
        del self.items[(service, username)]

    def _maybe_fail(self) -> None:
        if self.failing:
            # Backends quote what they were handling; the store must not pass that on.
            raise keyring.errors.KeyringLocked(f"Can't get password from keychain: {SECRET}")


@pytest.fixture
def backend() -> Iterator[MemoryBackend]:
    previous = keyring.get_keyring()
    memory = MemoryBackend()
    keyring.set_keyring(memory)
    try:
        yield memory
    finally:
        keyring.set_keyring(previous)


def test_default_store_is_the_keychain_only_on_macos() -> None:
    assert isinstance(default_secret_store("darwin"), KeyringStore)
    assert default_secret_store("linux") is None
    assert default_secret_store("win32") is None


def test_keyring_store_round_trip(backend: MemoryBackend) -> None:
    store: SecretStore = KeyringStore()
    assert store.get("svc", "me") is None
    store.set("svc", "me", SECRET)
    assert backend.items[("svc", "me")] == SECRET
    assert store.get("svc", "me") == SECRET
    store.delete("svc", "me")
    assert store.get("svc", "me") is None


def test_keyring_store_delete_of_missing_item_is_not_an_error(backend: MemoryBackend) -> None:
    KeyringStore().delete("svc", "nobody")
    assert backend.items == {}


@pytest.mark.parametrize("operation", ["get", "set", "delete"])
def test_keyring_failures_become_plain_usage_errors(backend: MemoryBackend, operation: str) -> None:
    backend.items[("Claude Code-credentials", "me")] = SECRET
    backend.failing = True
    store = KeyringStore()
    calls: dict[str, Callable[[], object]] = {
        "get": lambda: store.get("Claude Code-credentials", "me"),
        "set": lambda: store.set("Claude Code-credentials", "me", SECRET),
        "delete": lambda: store.delete("Claude Code-credentials", "me"),
    }
    with pytest.raises(UsageError) as caught:
        calls[operation]()
    error = caught.value
    assert error.kind is ErrorKind.BAD_CREDENTIALS
    assert "Keychain" in error.message
    assert "Claude Code-credentials" in error.message
    assert "sk-ant" not in str(error)
    # The backend's exception, which quoted the value, is neither the cause nor the context.
    assert error.__cause__ is None
    assert error.__context__ is None


def test_keyring_delete_that_leaves_the_item_is_an_error(backend: MemoryBackend) -> None:
    class StuckBackend(MemoryBackend):
        def delete_password(self, service: str, username: str) -> None:
            raise keyring.errors.PasswordDeleteError("denied")

    stuck = StuckBackend()
    stuck.items[("svc", "me")] = SECRET
    keyring.set_keyring(stuck)
    with pytest.raises(UsageError) as caught:
        KeyringStore().delete("svc", "me")
    assert caught.value.kind is ErrorKind.BAD_CREDENTIALS
    assert stuck.items[("svc", "me")] == SECRET


def test_fake_store_behaves_like_the_interface() -> None:
    store: SecretStore = FakeSecretStore({("svc", "me"): "value"})
    assert store.get("svc", "me") == "value"
    assert store.get("svc", "other") is None
    store.set("svc", "other", "second")
    assert store.get("svc", "other") == "second"
    store.delete("svc", "other")
    store.delete("svc", "other")  # missing: not an error
    assert store.get("svc", "other") is None


def test_fake_store_when_locked_fails_every_call_with_bad_credentials() -> None:
    store = FakeSecretStore({("svc", "me"): "value"})
    store.locked = True
    calls: list[Callable[[], object]] = [
        lambda: store.get("svc", "me"),
        lambda: store.set("svc", "me", "x"),
        lambda: store.delete("svc", "me"),
    ]
    for call in calls:
        with pytest.raises(UsageError) as caught:
            call()
        assert caught.value.kind is ErrorKind.BAD_CREDENTIALS
    assert store.items == {("svc", "me"): "value"}


def test_the_tray_reads_each_keychain_item_at_most_once_per_minute() -> None:
    reads: list[tuple[str, str]] = []

    class Counting(FakeSecretStore):
        def get(self, service: str, account: str) -> str | None:
            reads.append((service, account))
            return super().get(service, account)

    now = [1000.0]
    inner = Counting({("svc", "me"): "v1"})
    cached = CachingSecretStore(inner, ttl=60.0, clock=lambda: now[0])
    for _ in range(6):  # a check every 10 s for a minute
        assert cached.get("svc", "me") == "v1"
        now[0] += 10.0
    assert len(reads) == 1
    inner.items[("svc", "me")] = "v2"  # Claude Code renewed the sign-in
    now[0] += 1.0
    assert cached.get("svc", "me") == "v2"  # seen once the minute is over
    assert len(reads) == 2
    cached.set("svc", "me", "v3")  # our own write is never served stale
    assert cached.get("svc", "me") == "v3"
