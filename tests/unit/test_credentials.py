"""Reading Claude Code's sign-in from real files in throwaway homes, and from a fake Keychain."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credentials import (
    Credentials,
    check_usable,
    credentials_signature,
    read_credentials,
    token_fingerprint,
)
from claude_usage_gauge.testing.fake_keychain import FakeSecretStore

TOKEN = "sk-ant-oat01-" + "Zq9_Xv-3Lm" * 9 + "Ab3x"
OTHER_TOKEN = "sk-ant-oat01-" + "Pp7-Yy_2Kk" * 9 + "Cd5y"
REFRESH = "sk-ant-ort01-" + "Rr4_Tt-8Nn" * 9 + "Ef6z"
EXPIRES_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
EXPIRES = datetime(2026, 1, 1, tzinfo=UTC)
SCOPES = ["user:inference", "user:profile", "user:sessions:claude_code"]
SERVICE = "Claude Code-credentials"
# A marker in file content: messages must never quote a file, so it must never show up.
CONTENT_MARK = "ContentMarker7f3a"


def oauth(**changes: object) -> dict[str, object]:
    section: dict[str, object] = {
        "accessToken": TOKEN,
        "refreshToken": REFRESH,
        "expiresAt": EXPIRES_MS,
        "scopes": SCOPES,
        "subscriptionType": "max",
        "rateLimitTier": "default_claude_max_5x",
    }
    for key, value in changes.items():
        if value is None:
            section.pop(key, None)
        else:
            section[key] = value
    return section


def document(**changes: object) -> dict[str, object]:
    return {"claudeAiOauth": oauth(**changes), "mcpOAuth": {"server": {"note": CONTENT_MARK}}}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    return {"HOME": str(home), "USER": "tester"}


def write(env: dict[str, str], content: bytes | dict[str, object] | list[object]) -> Path:
    path = ClaudeHome.from_environ(env).credentials_file
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    path.write_bytes(raw)
    path.chmod(0o600)
    return path


def read_error(env: dict[str, str], store: FakeSecretStore | None = None) -> UsageError:
    with pytest.raises(UsageError) as caught:
        read_credentials(ClaudeHome.from_environ(env), store)
    error = caught.value
    for text in (error.message, str(error), repr(error), error.problem.detail):
        assert TOKEN not in text
        assert REFRESH not in text
        assert CONTENT_MARK not in text
    return error


# --- where ----------------------------------------------------------------------------------


def test_reads_every_field_from_the_file(env: dict[str, str]) -> None:
    path = write(env, document())
    creds = read_credentials(ClaudeHome.from_environ(env))
    assert creds.access_token == TOKEN
    assert creds.expires_at == EXPIRES
    assert creds.scopes == tuple(SCOPES)
    assert creds.subscription_type == "max"
    assert creds.rate_limit_tier == "default_claude_max_5x"
    assert creds.location == str(path)


def test_reads_from_claude_config_dir(env: dict[str, str], tmp_path: Path) -> None:
    write(env, document(accessToken=OTHER_TOKEN))
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "profile")
    write(env, document())
    assert read_credentials(ClaudeHome.from_environ(env)).access_token == TOKEN


def test_lenient_optional_fields(env: dict[str, str]) -> None:
    write(
        env,
        document(expiresAt="tomorrow", scopes=None, subscriptionType=7, rateLimitTier=""),
    )
    creds = read_credentials(ClaudeHome.from_environ(env))
    assert creds.expires_at is None
    assert creds.scopes is None
    assert creds.subscription_type is None
    assert creds.rate_limit_tier is None


@pytest.mark.parametrize("expires", [True, 1e300, float("nan"), -1e20, [1]])
def test_unusable_expiry_reads_as_unknown(env: dict[str, str], expires: object) -> None:
    raw = json.dumps(document(expiresAt=expires)).encode()
    write(env, raw)
    assert read_credentials(ClaudeHome.from_environ(env)).expires_at is None


def test_missing_file_is_no_credentials_and_names_the_path(env: dict[str, str]) -> None:
    error = read_error(env)
    assert error.kind is ErrorKind.NO_CREDENTIALS
    assert str(ClaudeHome.from_environ(env).credentials_file) in error.message
    assert "/login" in error.message
    assert "CLAUDE_CODE_OAUTH_TOKEN" not in error.message


def test_missing_file_with_long_lived_token_explains_it_cannot_read_usage(
    env: dict[str, str],
) -> None:
    env["CLAUDE_CODE_OAUTH_TOKEN"] = OTHER_TOKEN
    error = read_error(env)
    assert error.kind is ErrorKind.NO_CREDENTIALS
    assert "CLAUDE_CODE_OAUTH_TOKEN" in error.message
    assert "setup-token" in error.message
    assert "usage" in error.message
    assert OTHER_TOKEN not in error.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"  \n\t", "empty", id="blank"),
        pytest.param(
            b'{"claudeAiOauth": {"accessToken": "' + CONTENT_MARK.encode(), "JSON", id="torn"
        ),
        pytest.param(b"\xff\xfe" + CONTENT_MARK.encode(), "JSON", id="binary"),
        pytest.param(b"[" * 100_000, "JSON", id="deep"),
        pytest.param(json.dumps([CONTENT_MARK]).encode(), "does not hold", id="array"),
        pytest.param(json.dumps(CONTENT_MARK).encode(), "does not hold", id="string"),
        pytest.param(json.dumps({"note": CONTENT_MARK}).encode(), "Not signed in", id="no-oauth"),
        pytest.param(
            json.dumps({"mcpOAuth": {"s": {"accessToken": TOKEN, "n": CONTENT_MARK}}}).encode(),
            "Not signed in",
            id="only-mcp",
        ),
        pytest.param(
            json.dumps({"claudeAiOauth": TOKEN}).encode(), "Not signed in", id="oauth-str"
        ),
        pytest.param(
            json.dumps(document(accessToken="")).encode(), "no access token", id="empty-token"
        ),
        pytest.param(json.dumps(document(accessToken=None)).encode(), "no access token", id="none"),
        pytest.param(json.dumps(document(accessToken=42)).encode(), "no access token", id="number"),
        pytest.param(
            json.dumps(document(accessToken=TOKEN + "\n" + CONTENT_MARK)).encode(),
            "damaged",
            id="newline-in-token",
        ),
    ],
)
def test_every_bad_file_is_bad_credentials_in_plain_words(
    env: dict[str, str], content: bytes, words: str
) -> None:
    path = write(env, content)
    error = read_error(env)
    assert error.kind is ErrorKind.BAD_CREDENTIALS
    assert words in error.message
    assert str(path) in error.message
    assert "/login" in error.message


def test_a_directory_in_place_of_the_file_is_bad_credentials(env: dict[str, str]) -> None:
    path = ClaudeHome.from_environ(env).credentials_file
    path.mkdir()
    error = read_error(env)
    assert error.kind is ErrorKind.BAD_CREDENTIALS
    assert str(path) in error.message
    assert "could not be read" in error.message


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root (or Windows) can read a 000 file"
)
def test_an_unreadable_file_is_bad_credentials(env: dict[str, str]) -> None:
    path = write(env, document())
    path.chmod(0o000)
    try:
        error = read_error(env)
    finally:
        path.chmod(0o600)
    assert error.kind is ErrorKind.BAD_CREDENTIALS
    assert "Permission denied" in error.message


def read_or_error(env: dict[str, str]) -> Credentials | UsageError:
    """Anything else escaping read_credentials fails the test."""
    try:
        return read_credentials(ClaudeHome.from_environ(env))
    except UsageError as error:
        return error


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400))
def test_any_bytes_give_credentials_or_a_usage_error(env: dict[str, str], content: bytes) -> None:
    write(env, content)
    outcome = read_or_error(env)
    if isinstance(outcome, UsageError):
        assert outcome.kind is ErrorKind.BAD_CREDENTIALS
    else:
        assert outcome.access_token


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
oauth_like = st.fixed_dictionaries(
    {},
    optional={
        "accessToken": json_values | st.just(TOKEN),
        "expiresAt": json_values,
        "scopes": json_values | st.lists(st.text(max_size=15), max_size=4),
        "subscriptionType": json_values,
        "rateLimitTier": json_values,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(section=oauth_like | json_values)
def test_any_json_gives_credentials_or_a_usage_error(env: dict[str, str], section: object) -> None:
    write(env, json.dumps({"claudeAiOauth": section}).encode())
    outcome = read_or_error(env)
    if isinstance(outcome, UsageError):
        assert outcome.kind is ErrorKind.BAD_CREDENTIALS
    else:
        assert outcome.access_token
        assert outcome.scopes is None or all(isinstance(s, str) for s in outcome.scopes)
        if outcome.expires_at is not None:
            assert outcome.expires_at.tzinfo is not None


# --- the Keychain ----------------------------------------------------------------------------


def keychain_with(value: str, env: dict[str, str]) -> FakeSecretStore:
    return FakeSecretStore(
        {
            (
                ClaudeHome.from_environ(env).keychain_service,
                ClaudeHome.from_environ(env).keychain_account,
            ): value
        }
    )


def test_keychain_comes_before_the_file(env: dict[str, str]) -> None:
    write(env, document(accessToken=OTHER_TOKEN))
    store = keychain_with(json.dumps(document()), env)
    creds = read_credentials(ClaudeHome.from_environ(env), store)
    assert creds.access_token == TOKEN
    assert creds.location == 'Keychain item "Claude Code-credentials"'


def test_file_is_read_when_the_keychain_has_no_item(env: dict[str, str]) -> None:
    path = write(env, document())
    creds = read_credentials(ClaudeHome.from_environ(env), FakeSecretStore())
    assert creds.access_token == TOKEN
    assert creds.location == str(path)


def test_hex_encoded_keychain_value_is_accepted(env: dict[str, str]) -> None:
    store = keychain_with(json.dumps(document()).encode().hex(), env)
    assert read_credentials(ClaudeHome.from_environ(env), store).access_token == TOKEN


def test_keychain_item_for_claude_config_dir(env: dict[str, str], tmp_path: Path) -> None:
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "work")
    digest = hashlib.sha256(str(tmp_path / "work").encode()).hexdigest()[:8]
    store = FakeSecretStore({(f"{SERVICE}-{digest}", "tester"): json.dumps(document())})
    creds = read_credentials(ClaudeHome.from_environ(env), store)
    assert creds.access_token == TOKEN
    assert creds.location == f'Keychain item "{SERVICE}-{digest}"'


def test_keychain_item_with_only_mcp_data_reads_as_not_signed_in(env: dict[str, str]) -> None:
    store = keychain_with(json.dumps({"mcpOAuth": {"s": {"accessToken": TOKEN}}}), env)
    error = read_error(env, store)
    assert error.kind is ErrorKind.BAD_CREDENTIALS
    assert error.message.startswith("Not signed in")
    assert "Keychain" in error.message
    assert "/login" in error.message


def test_a_good_file_beats_a_keychain_item_without_a_sign_in(env: dict[str, str]) -> None:
    write(env, document())
    store = keychain_with(json.dumps({"mcpOAuth": {}}), env)
    assert read_credentials(ClaudeHome.from_environ(env), store).access_token == TOKEN


def test_garbage_in_the_keychain_is_bad_credentials(env: dict[str, str]) -> None:
    store = keychain_with("not json " + CONTENT_MARK, env)
    error = read_error(env, store)
    assert error.kind is ErrorKind.BAD_CREDENTIALS
    assert "Keychain" in error.message


def test_a_locked_keychain_without_a_file_is_bad_credentials(env: dict[str, str]) -> None:
    store = keychain_with(json.dumps(document()), env)
    store.locked = True
    error = read_error(env, store)
    assert error.kind is ErrorKind.BAD_CREDENTIALS
    assert "locked" in error.message
    write(env, document(accessToken=OTHER_TOKEN))
    assert read_credentials(ClaudeHome.from_environ(env), store).access_token == OTHER_TOKEN


def test_nothing_anywhere_names_both_places(env: dict[str, str]) -> None:
    error = read_error(env, FakeSecretStore())
    assert error.kind is ErrorKind.NO_CREDENTIALS
    assert 'Keychain item "Claude Code-credentials"' in error.message
    assert str(ClaudeHome.from_environ(env).credentials_file) in error.message


# --- usable? ---------------------------------------------------------------------------------


def creds_with(expires_at: datetime | None, scopes: tuple[str, ...] | None) -> Credentials:
    return Credentials(TOKEN, expires_at, scopes, "pro", None, "test")


def test_expiry_boundary_is_five_minutes_early() -> None:
    creds = creds_with(EXPIRES, tuple(SCOPES))
    edge = EXPIRES - timedelta(minutes=5)
    check_usable(creds, edge - timedelta(microseconds=1))
    with pytest.raises(UsageError) as caught:
        check_usable(creds, edge)
    assert caught.value.kind is ErrorKind.TOKEN_EXPIRED
    assert "Claude Code renews it" in caught.value.message
    with pytest.raises(UsageError):
        check_usable(creds, EXPIRES + timedelta(days=1))


def test_unknown_expiry_and_unknown_scopes_are_tried() -> None:
    check_usable(creds_with(None, None), datetime(2099, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("scopes", [("user:inference",), ()])
def test_a_sign_in_without_profile_scope_cannot_read_usage(scopes: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as caught:
        check_usable(creds_with(EXPIRES, scopes), EXPIRES - timedelta(hours=1))
    assert caught.value.kind is ErrorKind.MISSING_SCOPE
    assert "user:profile" in caught.value.message
    assert "/login" in caught.value.message


# --- the token stays secret ------------------------------------------------------------------


def test_token_is_never_in_str_or_repr(env: dict[str, str]) -> None:
    write(env, document())
    creds = read_credentials(ClaudeHome.from_environ(env))
    for text in (str(creds), repr(creds), creds.masked_token()):
        assert TOKEN not in text
        assert TOKEN[13:25] not in text


def test_masked_token_shows_only_kind_and_length() -> None:
    assert creds_with(None, None).masked_token() == f"sk-ant-oat01-…({len(TOKEN)} chars)"
    odd = Credentials("abcdefsecret-xyz-123-456", None, None, None, None, "test")
    assert odd.masked_token() == "…(24 chars)"


def test_token_fingerprint_is_salted_and_short() -> None:
    first = token_fingerprint(TOKEN, b"salt-one")
    assert first == hashlib.sha256(b"salt-one" + TOKEN.encode()).hexdigest()[:32]
    assert first == token_fingerprint(TOKEN, b"salt-one")
    assert first != token_fingerprint(TOKEN, b"salt-two")
    assert first != token_fingerprint(OTHER_TOKEN, b"salt-one")


# --- change detection ------------------------------------------------------------------------


def test_signature_changes_whenever_the_file_changes(env: dict[str, str]) -> None:
    absent = credentials_signature(ClaudeHome.from_environ(env))
    path = write(env, document())
    written = credentials_signature(ClaudeHome.from_environ(env))
    assert written != absent
    assert credentials_signature(ClaudeHome.from_environ(env)) == written

    # Rewritten in place, same size: the modification time tells.
    info = path.stat()
    path.write_bytes(json.dumps(document(accessToken=OTHER_TOKEN)).encode())
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    in_place = credentials_signature(ClaudeHome.from_environ(env))
    assert in_place != written

    # Replaced atomically (a new file renamed over it), even with the old time and size.
    info = path.stat()
    fresh = path.with_name("fresh.tmp")
    fresh.write_bytes(json.dumps(document()).encode())
    os.utime(fresh, ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(fresh, path)
    assert credentials_signature(ClaudeHome.from_environ(env)) != in_place

    path.unlink()
    assert credentials_signature(ClaudeHome.from_environ(env)) == absent


def test_signature_follows_the_keychain_and_never_raises(env: dict[str, str]) -> None:
    store = FakeSecretStore()
    empty = credentials_signature(ClaudeHome.from_environ(env), store)
    store.set(SERVICE, "tester", json.dumps(document()))
    first = credentials_signature(ClaudeHome.from_environ(env), store)
    store.set(SERVICE, "tester", json.dumps(document(accessToken=OTHER_TOKEN)))
    second = credentials_signature(ClaudeHome.from_environ(env), store)
    assert len({empty, first, second}) == 3
    for signature in (first, second):
        assert TOKEN not in signature
        assert OTHER_TOKEN not in signature
    store.locked = True
    assert credentials_signature(ClaudeHome.from_environ(env), store) not in {empty, first, second}
    env["CLAUDE_CONFIG_DIR"] = "bad\0path"
    assert credentials_signature(ClaudeHome.from_environ(env), store)


# --- start-up cost ---------------------------------------------------------------------------


def test_reading_credentials_imports_no_heavy_module(env: dict[str, str]) -> None:
    write(env, document())
    code = (
        "import sys\n"
        "from claude_usage_gauge.sources.claude_home import ClaudeHome\n"
        "from claude_usage_gauge.sources.credentials import read_credentials\n"
        f"read_credentials(ClaudeHome.from_environ({env!r}))\n"
        "heavy = {'keyring', 'httpx', 'PIL', 'pystray', 'gi'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
