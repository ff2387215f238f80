"""Property tests for the parsers that read what others wrote: headers, our files, stdin.

Only inputs no other test file already fuzzes the same way (see the note at each section):
Retry-After values shaped like real headers, the store with a hostile bridge file beside it,
whole credentials documents and Keychain values, bridge objects, and the statusline bridge's
stdin and template.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.window_ids import STATUSLINE_WINDOWS
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.sources.api import parse_retry_after
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credentials import (
    Credentials,
    read_credentials,
)
from claude_usage_gauge.statusline.bridge import bridge_command, our_line
from claude_usage_gauge.statusline.bridge_file import (
    BRIDGE_FILE_NAME,
    parse_bridge,
    read_bridge,
    render_bridge,
)
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.fake_keychain import FakeSecretStore

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKEN = "sk-ant-oat01-FuzzToken" + "Q7x_Lm2-Vb9" * 6
NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=15,
)


def dumps(value: object) -> bytes:
    """JSON as a writer that allows NaN and Infinity (Python's default) would write it."""
    return json.dumps(value).encode()


# -- Retry-After -------------------------------------------------------------------------------
# tests/test_api.py already fuzzes arbitrary text and number-like strings against a naive or UTC
# `now`; this adds values shaped like real headers (HTTP dates with every field bent, delta
# seconds with odd spacing and sizes) against `now` in any offset, and checks the result's kind.

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Monday", "Xyz", "")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ZONES = ("GMT", "UTC", "UT", "Z", "+0000", "-0800", "+1400", "-2400", "+9999", "PST", "EDT", "")

http_dates = st.builds(
    "{}{} {:02d} {} {} {:02d}:{:02d}:{:02d} {}".format,
    st.sampled_from(DAYS),
    st.sampled_from((",", "", ";")),
    st.integers(-1, 99),
    st.sampled_from((*MONTHS, "Foo", "jan", "")),
    st.integers(-1, 100_000) | st.sampled_from((0, 70, 99, 1969, 9999, 10_000)),
    st.integers(-1, 99),
    st.integers(-1, 99),
    st.integers(-1, 99),
    st.sampled_from(ZONES),
)
asctime_dates = st.builds(
    "{} {} {:2d} {:02d}:{:02d}:{:02d} {}".format,
    st.sampled_from(DAYS),
    st.sampled_from(MONTHS),
    st.integers(0, 40),
    st.integers(0, 30),
    st.integers(0, 70),
    st.integers(0, 70),
    st.integers(0, 100_000),
)
delta_seconds = st.builds(
    "{}{}{}".format,
    st.sampled_from(("", " ", "\t", "  \r\n")),
    st.integers(0, 10**30).map(str)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
    | st.sampled_from(("1e3", "0x10", "+5", "-5", "5.", ".5", "1_000", "9" * 400, "٣")),
    st.sampled_from(("", " ", "\n", " s", ",5")),
)
header_like = http_dates | asctime_dates | delta_seconds
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aware_nows = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9000, 1, 1), timezones=offsets
)


@FUZZ
@given(value=header_like, now=aware_nows)
@example(value="Fri, 31 Dec 9999 23:59:59 GMT", now=NOW)
@example(value="9" * 400, now=NOW)
@example(value="Sun, 06 Nov 1994 08:49:37 +9999", now=NOW)
def test_retry_after_shaped_like_a_header_is_a_later_aware_time_or_none(
    value: str, now: datetime
) -> None:
    result = parse_retry_after(value, now)
    if result is not None:
        assert isinstance(result, datetime)
        assert result.tzinfo is not None
        assert result.utcoffset() is not None
        assert result > now


@FUZZ
@given(seconds=st.integers(1, 10**9), now=aware_nows)
def test_whole_seconds_mean_exactly_that_much_later(seconds: int, now: datetime) -> None:
    try:
        expected = now + timedelta(seconds=seconds)
    except OverflowError:
        expected = None
    assert parse_retry_after(f" {seconds} ", now) == expected


# -- the store with a bridge file beside it ----------------------------------------------------
# tests/test_store.py fuzzes state.json alone; here bridge.json is hostile too, alone and with a
# good or hostile state.json.


def app_paths(root: Path) -> AppPaths:
    return AppPaths(
        state_dir=root / "state" / "claude-usage-gauge",
        data_dir=root / "data",
        log_dir=root / "log",
        config_dir=root / "config",
    )


numbers = st.integers() | st.floats() | st.integers(min_value=-(10**400), max_value=10**400)
# Integers a float can hold: an expiry beyond them is a known bug with a test of its own below.
float_sized = st.integers() | st.floats() | st.integers(min_value=-(10**300), max_value=10**300)
window_like = st.fixed_dictionaries(
    {},
    optional={"used_percentage": numbers | json_values, "resets_at": numbers | json_values},
)
bridge_like = st.fixed_dictionaries(
    {"version": st.just(1) | json_scalars},
    optional={
        "at": numbers | json_values,
        "rate_limits": st.dictionaries(
            st.sampled_from((*STATUSLINE_WINDOWS, "seven_day_opus", "")), window_like | json_values
        )
        | json_values,
        "extra": json_values,
    },
)
GOOD_STATE = json.dumps(
    {
        "version": 1,
        "salt": "ab" * 16,
        "snapshot": None,
        "history": [],
        "last_error": None,
        "error_at": None,
        "gates": {},
        "last_manual": None,
        "current_fingerprint": None,
    }
).encode()
file_bytes = (
    st.binary(max_size=300)
    | bridge_like.map(dumps)
    | json_values.map(dumps)
    | st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass"))
)


@FUZZ
@given(bridge=file_bytes, state=st.none() | st.just(GOOD_STATE) | file_bytes)
@example(
    bridge=b'{"version":1,"at":1e400,"rate_limits":{"five_hour":{"used_percentage":5}}}', state=None
)
@example(
    bridge=b'{"version":1,"at":-1e20,"rate_limits":{"five_hour":{"used_percentage":5}}}', state=None
)
@example(
    bridge=b'{"version":1,"at":1e12,"rate_limits":{"seven_day":{"used_percentage":1e308,'
    b'"resets_at":-1e308}}}',
    state=GOOD_STATE,
)
def test_store_read_with_any_bridge_file_never_raises(bridge: bytes, state: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as root:
        paths = app_paths(Path(root))
        paths.state_dir.mkdir(parents=True)
        paths.bridge_file.write_bytes(bridge)
        if state is not None:
            paths.store_file.write_bytes(state)
        read = Store(paths).read()
        assert isinstance(read, State)
        if read.snapshot is not None:
            assert read.snapshot.fetched_at.tzinfo is not None
            assert all(math.isfinite(w.percent) for w in read.snapshot.windows)
        # What was read can be stored and read back: a bad bridge file never poisons the store.
        written = Store(paths).update(lambda s: s)
        assert isinstance(written, State)
        assert isinstance(Store(paths).read(), State)


# -- the credentials, whole documents and Keychain values ----------------------------------------
# tests/test_credentials.py fuzzes raw bytes and documents of the form {"claudeAiOauth": x};
# here the whole document is arbitrary (the sign-in beside or inside anything), and so is the
# Keychain's value (JSON, hex-encoded JSON, or text).

oauth_like = st.fixed_dictionaries(
    {"accessToken": json_values | st.just(TOKEN) | st.sampled_from((TOKEN + "\n", f" {TOKEN}"))},
    optional={
        "refreshToken": json_values,
        "expiresAt": float_sized | json_values,
        "scopes": json_values | st.lists(st.text(max_size=15), max_size=4),
        "subscriptionType": json_values,
        "rateLimitTier": json_values,
    },
)
documents = st.recursive(
    json_scalars | oauth_like.map(lambda o: {"claudeAiOauth": o}),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=12) | st.just("claudeAiOauth"), inner, max_size=4)
    ),
    max_leaves=10,
)


def read_outcome(
    environ: dict[str, str], store: FakeSecretStore | None = None
) -> Credentials | UsageError:
    try:
        return read_credentials(ClaudeHome.from_environ(environ), store)
    except UsageError as error:
        return error


def check_outcome(outcome: Credentials | UsageError) -> None:
    if isinstance(outcome, UsageError):
        assert outcome.kind in (ErrorKind.BAD_CREDENTIALS, ErrorKind.NO_CREDENTIALS)
        # Whatever the file held, the message never quotes the token.
        assert "FuzzToken" not in outcome.message
        assert "FuzzToken" not in outcome.problem.detail
    else:
        assert isinstance(outcome, Credentials)
        assert outcome.access_token
        assert outcome.access_token.isascii()
        assert "FuzzToken" not in repr(outcome)
        assert outcome.scopes is None or all(isinstance(s, str) for s in outcome.scopes)
        assert outcome.expires_at is None or outcome.expires_at.tzinfo is not None


def read_document(document: object) -> Credentials | UsageError:
    with tempfile.TemporaryDirectory() as home:
        claude = Path(home) / ".claude"
        claude.mkdir()
        (claude / ".credentials.json").write_bytes(dumps(document))
        return read_outcome({"HOME": home})


@FUZZ
@given(document=documents)
@example(document={"claudeAiOauth": {"accessToken": TOKEN, "expiresAt": 10**300}})
@example(document={"claudeAiOauth": {"accessToken": TOKEN, "expiresAt": -1e300}})
def test_any_credentials_document_gives_credentials_or_a_usage_error(document: object) -> None:
    check_outcome(read_document(document))


@pytest.mark.parametrize("expires_at", [10**400, -(10**400)], ids=["huge", "negative-huge"])
def test_an_expiry_beyond_a_float_is_no_expiry(expires_at: int) -> None:
    outcome = read_document({"claudeAiOauth": {"accessToken": TOKEN, "expiresAt": expires_at}})
    check_outcome(outcome)
    assert isinstance(outcome, Credentials)
    assert outcome.expires_at is None


keychain_values = (
    documents.map(json.dumps)
    | documents.map(lambda d: json.dumps(d).encode().hex())
    | st.text(max_size=60)
    | st.from_regex(r"\A(?:[0-9a-f]{2}){0,30}\Z")
)


@FUZZ
@given(value=keychain_values, file=st.none() | documents)
def test_any_keychain_value_gives_credentials_or_a_usage_error(
    value: str, file: object | None
) -> None:
    with tempfile.TemporaryDirectory() as home:
        environ = {"HOME": home, "USER": "fuzz"}
        if file is not None:
            (Path(home) / ".claude").mkdir()
            (Path(home) / ".claude" / ".credentials.json").write_bytes(dumps(file))
        store = FakeSecretStore(
            {
                (
                    ClaudeHome.from_environ(environ).keychain_service,
                    ClaudeHome.from_environ(environ).keychain_account,
                ): value
            }
        )
        check_outcome(read_outcome(environ, store))


# -- the bridge file's object --------------------------------------------------------------------
# tests/test_bridge_file.py fuzzes the JSON reader and the render/parse round trip of good
# values; here parse_bridge and read_bridge get anything.


def check_bridge(parsed: dict[str, object] | None) -> None:
    if parsed is None:
        return
    assert set(parsed) == {"version", "at", "rate_limits"}
    assert parsed["version"] == 1
    at = parsed["at"]
    assert isinstance(at, float)
    assert math.isfinite(at)
    limits = parsed["rate_limits"]
    assert isinstance(limits, dict)
    assert limits
    assert set(limits) <= set(STATUSLINE_WINDOWS)
    for part in limits.values():
        assert set(part) <= {"used_percentage", "resets_at"}
        assert "used_percentage" in part
        assert all(isinstance(v, float) and math.isfinite(v) for v in part.values())
    # A cleaned object renders to a file that reads back the same.
    assert parse_bridge(json.loads(render_bridge(limits, at))) == parsed


@FUZZ
@given(raw=bridge_like | json_values)
def test_parse_bridge_of_anything_is_a_clean_object_or_none(raw: object) -> None:
    check_bridge(parse_bridge(raw))


@FUZZ
@given(data=file_bytes | st.binary(min_size=64 * 1024 - 2, max_size=64 * 1024 + 2))
def test_read_bridge_of_any_file_is_a_clean_object_or_none(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / BRIDGE_FILE_NAME
        path.write_bytes(data)
        check_bridge(read_bridge(path))


# -- the statusline bridge in-process ----------------------------------------------------------
# tests/test_statusline.py runs chosen inputs (and an exploding stdin); here stdin and the
# template are anything, with and without a store and bridge file already there.

statusline_like = st.fixed_dictionaries(
    {
        "rate_limits": st.dictionaries(
            st.sampled_from(STATUSLINE_WINDOWS), window_like | json_values
        )
    },
    optional={"model": json_values, "cwd": json_values, "session_id": json_values},
).map(dumps)
stdin_bytes = (
    st.binary(max_size=400)
    | statusline_like
    | json_values.map(dumps)
    | statusline_like.map(lambda b: b[: len(b) // 2])
)
templates = (
    st.none()
    | st.text(max_size=40)
    | st.sampled_from(
        ("{five_hour}", "{seven_day!r:>99999}", "{five_hour.real}", "{0}", "{}", "{stale}{", "%s")
    )
)


@FUZZ
@given(data=stdin_bytes, template=templates, seeded=st.booleans())
@example(
    data=b'{"rate_limits":{"five_hour":{"used_percentage":1e308,"resets_at":1e308}}}',
    template=None,
    seeded=False,
)
@example(
    data=b'{"rate_limits":{"five_hour":{"used_percentage":-1e308,"resets_at":-1}}}',
    template="{five_hour_resets}",
    seeded=True,
)
def test_bridge_command_on_any_stdin_exits_0_with_at_most_one_line(
    data: bytes, template: str | None, seeded: bool
) -> None:
    now = NOW.timestamp()
    with tempfile.TemporaryDirectory() as root:
        state_dir = Path(root) / "state"
        if seeded:
            state_dir.mkdir()
            (state_dir / "state.json").write_bytes(GOOD_STATE)
            (state_dir / BRIDGE_FILE_NAME).write_bytes(
                render_bridge({"five_hour": {"used_percentage": 12.0}}, now - 30)
            )
        # Our line on its own must not raise: the command's catch-all would hide it silently.
        line = our_line(data, template, now, state_dir)
        assert isinstance(line, str)
        assert "\n" not in line
        out = io.StringIO()
        code = bridge_command(
            template, stdin=io.BytesIO(data), stdout=out, now=now, state_dir=state_dir
        )
        assert code == 0
        text = out.getvalue()
        assert text == "" or (text.endswith("\n") and text.count("\n") == 1)
        bridge = state_dir / BRIDGE_FILE_NAME
        if bridge.exists():
            check_bridge(read_bridge(bridge))
