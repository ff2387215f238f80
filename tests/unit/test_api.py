"""The usage client against a real fake server on 127.0.0.1: every outcome, and no token leaks."""

from __future__ import annotations

import email.utils
import json
import logging
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.sources.api import (
    MAX_BODY_BYTES,
    USER_AGENT,
    fetch_usage,
    parse_retry_after,
)
from claude_usage_gauge.sources.api_base import validate_api_base
from claude_usage_gauge.testing.fake_api import (
    USAGE_PATH,
    FakeUsageAPI,
    Reply,
    api_error,
    html_error,
    missing_scope,
    out_of_extra_usage,
    rate_limited,
    redirect,
    unauthorized,
    usage_body,
)

# Looks like the real thing so a leak would be recognisable; it is not a real token.
TOKEN = "sk-ant-oat01-TEST-0123456789abcdef-not-a-real-token"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    assert TOKEN not in caplog.text


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as api:
        yield api


def assert_no_token(error: UsageError) -> None:
    for text in (str(error), repr(error), error.message, error.problem.detail, repr(error.problem)):
        assert TOKEN not in text
    assert TOKEN not in str(error.problem.to_json())


def fetch(fake: FakeUsageAPI, *replies: Reply, timeout: float = 10.0) -> Usage:
    fake.push(*replies)
    return fetch_usage(fake.url, TOKEN, NOW, timeout=timeout)


def fail(fake: FakeUsageAPI, *replies: Reply, timeout: float = 10.0) -> UsageError:
    with pytest.raises(UsageError) as caught:
        fetch(fake, *replies, timeout=timeout)
    assert_no_token(caught.value)
    return caught.value


# -- success -----------------------------------------------------------------------------------


def test_flat_windows(fake: FakeUsageAPI) -> None:
    usage = fetch(fake, Reply(200, usage_body(12.5, 80.0, now=NOW)))
    assert usage.source == "api"
    assert usage.fetched_at == NOW
    assert [(w.id, w.percent) for w in usage.windows] == [("five_hour", 12.5), ("seven_day", 80.0)]
    five_hour = usage.window("five_hour")
    assert five_hour is not None
    assert five_hour.resets_at == NOW + timedelta(hours=2)


def test_limits_only(fake: FakeUsageAPI) -> None:
    body: dict[str, object] = {
        "limits": [
            {
                "kind": "session",
                "percent": 100,
                "severity": "critical",
                "resets_at": (NOW + timedelta(hours=1)).isoformat(),
                "scope": None,
                "is_active": True,
            },
            {
                "kind": "weekly_scoped",
                "percent": 30,
                "severity": "normal",
                "resets_at": None,
                "scope": {"model": {"id": "x", "display_name": "Sonnet"}},
                "is_active": False,
            },
        ]
    }
    usage = fetch(fake, Reply(200, body))
    session = usage.window("five_hour")
    assert session is not None
    assert (session.percent, session.active, session.severity) == (100, True, "critical")
    sonnet = usage.window("seven_day_sonnet")
    assert sonnet is not None
    assert sonnet.percent == 30


def test_flat_and_limits_show_each_window_once(fake: FakeUsageAPI) -> None:
    usage = fetch(fake, Reply(200, usage_body(91, 40, now=NOW, limits=True)))
    assert [w.id for w in usage.windows] == ["five_hour", "seven_day"]
    five_hour = usage.window("five_hour")
    assert five_hour is not None
    assert five_hour.severity == "critical"


def test_request_headers(fake: FakeUsageAPI) -> None:
    fetch(fake)
    (request,) = fake.requests
    assert request.method == "GET"
    assert request.path == USAGE_PATH
    assert request.headers["authorization"] == "Bearer " + TOKEN
    assert request.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert request.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("claude-usage-gauge/")
    assert request.headers["accept"] == "application/json"


def test_base_with_trailing_slash_and_prefix(fake: FakeUsageAPI) -> None:
    fetch_usage(fake.url + "/", TOKEN, NOW)
    assert fake.requests[-1].path == USAGE_PATH
    fake.push(Reply(200, usage_body()))
    with pytest.raises(UsageError) as caught:
        fetch_usage(fake.url + "/prefix", TOKEN, NOW)
    # The fake only serves the real path: a prefix reaches it as a different path.
    assert caught.value.kind is ErrorKind.SERVER_ERROR
    assert fake.requests[-1].path == "/prefix" + USAGE_PATH


# -- rate limiting -----------------------------------------------------------------------------


def test_429_without_retry_after(fake: FakeUsageAPI) -> None:
    error = fail(fake, rate_limited(None))
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_at is None
    assert error.message == "Rate limited by the usage service."
    assert "429" in error.problem.detail
    assert "Rate limited. Please try again later." in error.problem.detail


def test_429_retry_after_zero_is_unknown(fake: FakeUsageAPI) -> None:
    error = fail(fake, rate_limited("0"))
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_at is None


def test_429_retry_after_seconds(fake: FakeUsageAPI) -> None:
    error = fail(fake, rate_limited("1800"))
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_at == NOW + timedelta(seconds=1800)


def test_429_retry_after_http_date(fake: FakeUsageAPI) -> None:
    when = NOW + timedelta(minutes=7)
    error = fail(fake, rate_limited(email.utils.format_datetime(when, usegmt=True)))
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_at == when


def test_429_retry_after_garbage(fake: FakeUsageAPI) -> None:
    error = fail(fake, rate_limited("soon-ish"))
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_at is None


# -- refusals ------------------------------------------------------------------------------------


def test_401(fake: FakeUsageAPI) -> None:
    error = fail(fake, unauthorized())
    assert error.kind is ErrorKind.UNAUTHORIZED
    assert "OAuth token has expired." in error.problem.detail


def test_403_missing_scope(fake: FakeUsageAPI) -> None:
    error = fail(fake, missing_scope())
    assert error.kind is ErrorKind.MISSING_SCOPE
    assert "user:profile" in error.message


def test_403_other(fake: FakeUsageAPI) -> None:
    error = fail(fake, api_error(403, "permission_error", "Account disabled."))
    assert error.kind is ErrorKind.UNAUTHORIZED
    assert "403" in error.message


def test_400_out_of_extra_usage(fake: FakeUsageAPI) -> None:
    error = fail(fake, out_of_extra_usage())
    assert error.kind is ErrorKind.OUT_OF_EXTRA_USAGE
    assert "out of extra usage" in error.problem.detail


def test_400_other(fake: FakeUsageAPI) -> None:
    error = fail(fake, api_error(400, "invalid_request_error", "Malformed thing."))
    assert error.kind is ErrorKind.SERVER_ERROR
    assert "400" in error.message
    assert error.problem.detail == "HTTP 400: Malformed thing."


def test_500_json(fake: FakeUsageAPI) -> None:
    error = fail(fake, api_error(500, "api_error", "Internal server error"))
    assert error.kind is ErrorKind.SERVER_ERROR
    assert "500" in error.message
    assert "Internal server error" in error.problem.detail


def test_502_html_page_is_summarised(fake: FakeUsageAPI) -> None:
    error = fail(fake, html_error(502))
    assert error.kind is ErrorKind.SERVER_ERROR
    assert "502" in error.message
    for text in (error.message, error.problem.detail):
        assert "<" not in text
    assert "HTML page" in error.problem.detail
    assert "Bad Gateway" in error.problem.detail


def test_long_server_message_is_trimmed(fake: FakeUsageAPI) -> None:
    error = fail(fake, api_error(500, "api_error", "x" * 5000))
    assert len(error.problem.detail) < 250


def test_server_echoing_the_token_is_scrubbed(fake: FakeUsageAPI) -> None:
    error = fail(fake, api_error(401, "authentication_error", f"Bad token {TOKEN}\nagain"))
    assert error.kind is ErrorKind.UNAUTHORIZED
    assert "[token]" in error.problem.detail


def test_redirect_is_not_followed() -> None:
    with FakeUsageAPI() as origin, FakeUsageAPI() as target:
        origin.push(redirect(target.url + USAGE_PATH))
        with pytest.raises(UsageError) as caught:
            fetch_usage(origin.url, TOKEN, NOW)
        assert_no_token(caught.value)
        assert caught.value.kind is ErrorKind.SERVER_ERROR
        assert "302" in caught.value.message
        assert origin.request_count == 1
        assert target.request_count == 0


# -- network -------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused() -> None:
    with pytest.raises(UsageError) as caught:
        fetch_usage(f"http://127.0.0.1:{_closed_port()}", TOKEN, NOW)
    assert_no_token(caught.value)
    assert caught.value.kind is ErrorKind.NETWORK
    assert "refused" in caught.value.message


def test_dropped_connection(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(drop=True))
    assert error.kind is ErrorKind.NETWORK


def test_slow_server_beyond_timeout(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(200, usage_body(), delay=2.0), timeout=0.5)
    assert error.kind is ErrorKind.NETWORK
    assert "in time" in error.message


def test_trickling_body_beyond_the_deadline(fake: FakeUsageAPI) -> None:
    # Each byte comes well within any per-read timeout; only an overall deadline stops this.
    error = fail(fake, Reply(200, usage_body(), trickle=0.05), timeout=0.5)
    assert error.kind is ErrorKind.NETWORK
    assert "in time" in error.message


def test_dns_failure_is_network() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    with pytest.raises(UsageError) as caught:
        fetch_usage("https://usage.example", TOKEN, NOW, transport=httpx.MockTransport(handler))
    assert caught.value.kind is ErrorKind.NETWORK
    assert "looked up" in caught.value.message


def test_unexpected_exception_from_the_transport_is_mapped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("something odd " + request.headers["authorization"])

    with pytest.raises(UsageError) as caught:
        fetch_usage("https://usage.example", TOKEN, NOW, transport=httpx.MockTransport(handler))
    assert_no_token(caught.value)
    assert caught.value.kind is ErrorKind.NETWORK


# -- bad answers -----------------------------------------------------------------------------------


def test_truncated_body(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(200, usage_body(), truncate=True))
    assert error.kind is ErrorKind.BAD_RESPONSE


def test_huge_body_with_length_is_refused(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(200, b"x" * (24 * 1024 * 1024)))
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert "too large" in error.message


def _chunked(data: bytes, size: int = 64 * 1024) -> bytes:
    parts = [
        f"{len(data[i : i + size]):x}\r\n".encode() + data[i : i + size] + b"\r\n"
        for i in range(0, len(data), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def test_huge_body_without_length_is_refused_while_streaming(fake: FakeUsageAPI) -> None:
    body = _chunked(b'{"five_hour": {"utilization": 1, "pad": "' + b"x" * (24 * 1024 * 1024))
    error = fail(fake, Reply(200, body, headers={"Transfer-Encoding": "chunked"}))
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert "too large" in error.message


def test_body_just_under_the_limit_is_read(fake: FakeUsageAPI) -> None:
    text = json.dumps(usage_body(now=NOW))
    padded = text[:-1] + ', "pad": "' + "x" * (MAX_BODY_BYTES - len(text) - 20) + '"}'
    assert len(padded) < MAX_BODY_BYTES
    usage = fetch(fake, Reply(200, padded.encode(), headers={"Content-Type": "application/json"}))
    assert usage.window("five_hour") is not None


def test_non_json_200(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(200, "hello, not json"))
    assert error.kind is ErrorKind.BAD_RESPONSE


def test_html_200(fake: FakeUsageAPI) -> None:
    page = html_error(200)
    error = fail(fake, Reply(200, page.body, headers=page.headers))
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert "<" not in error.problem.detail


def test_json_array_200(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(200, [1, 2, 3]))
    assert error.kind is ErrorKind.BAD_RESPONSE


def test_200_without_windows(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(200, {"extra_usage": None, "five_hour": None, "limits": []}))
    assert error.kind is ErrorKind.BAD_RESPONSE


def test_empty_200(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(200))
    assert error.kind is ErrorKind.BAD_RESPONSE


def test_deeply_nested_json_200(fake: FakeUsageAPI) -> None:
    error = fail(fake, Reply(200, b"[" * 100_000 + b"]" * 100_000))
    assert error.kind is ErrorKind.BAD_RESPONSE


# -- arguments refused before any request ------------------------------------------------------


def test_refused_base_makes_no_request() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=usage_body())

    with pytest.raises(UsageError) as caught:
        fetch_usage("http://example.invalid", TOKEN, NOW, transport=httpx.MockTransport(handler))
    assert caught.value.kind is ErrorKind.CONFIG
    assert calls == []


def test_transport_is_used_for_https_bases() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=usage_body())

    fetch_usage("https://usage.example/", TOKEN, NOW, transport=httpx.MockTransport(handler))
    assert seen == ["https://usage.example/api/oauth/usage"]


@pytest.mark.parametrize("token", ["", "has space", "line\nbreak", "caf\u00e9", "tab\there"])
def test_unusable_token_is_refused_without_echo(fake: FakeUsageAPI, token: str) -> None:
    with pytest.raises(UsageError) as caught:
        fetch_usage(fake.url, token, NOW)
    assert caught.value.kind is ErrorKind.BAD_CREDENTIALS
    if token:
        assert token not in str(caught.value) + caught.value.problem.detail
    assert fake.request_count == 0


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf")])
def test_bad_timeout_is_config(fake: FakeUsageAPI, timeout: float) -> None:
    with pytest.raises(UsageError) as caught:
        fetch_usage(fake.url, TOKEN, NOW, timeout=timeout)
    assert caught.value.kind is ErrorKind.CONFIG
    assert fake.request_count == 0


# -- validate_api_base ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.anthropic.com", "https://api.anthropic.com"),
        ("https://api.anthropic.com/", "https://api.anthropic.com"),
        ("  HTTPS://API.Example.com:8443/base/  ", "https://api.example.com:8443/base"),
        ("https://10.1.2.3", "https://10.1.2.3"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.45.6.7/", "http://127.45.6.7"),
        ("http://localhost:9/", "http://localhost:9"),
        ("http://LOCALHOST", "http://localhost"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_allowed_bases(url: str, expected: str) -> None:
    assert validate_api_base(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://api.anthropic.com",
        "http://example.invalid",
        "http://10.0.0.1",
        "http://0.0.0.0:80",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com",
        "ftp://127.0.0.1",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://user:secret@api.example.com",
        "https://user@api.example.com",
        "http://user@127.0.0.1",
        "https://",
        "https:///path",
        "",
        "   ",
        "not a url",
        "api.example.com",
        "https://api.example.com:99999",
        "https://api.example.com:port",
        "https://api.example.com/?q=1",
        "https://api.example.com/#frag",
        "https://api.exa mple.com",
        "https://api.example.com/a\nb",
        "https://api.example.com/a\x00b",
    ],
)
def test_refused_bases(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        validate_api_base(url)
    assert caught.value.kind is ErrorKind.CONFIG
    assert "https://" in caught.value.message
    assert "secret" not in caught.value.message


# -- parse_retry_after ---------------------------------------------------------------------------


def _http_date(moment: datetime) -> str:
    return email.utils.format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", None),
        ("0.0", None),
        ("-5", None),
        ("30", NOW + timedelta(seconds=30)),
        (" 30 ", NOW + timedelta(seconds=30)),
        ("2.5", NOW + timedelta(seconds=2.5)),
        ("3600", NOW + timedelta(hours=1)),
        ("1e3", None),
        ("nan", None),
        ("inf", None),
        ("1_000", None),
        ("9" * 400, None),
        ("soon", None),
        (_http_date(NOW + timedelta(minutes=5)), NOW + timedelta(minutes=5)),
        (_http_date(NOW - timedelta(minutes=5)), None),
        (_http_date(NOW), None),
        ("Fri, 31 Dec 9999 23:59:59 GMT", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("Mon, 99 Foo 2026 99:99:99 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: datetime | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_naive_now_does_not_raise() -> None:
    assert parse_retry_after(_http_date(NOW + timedelta(minutes=5)), datetime(2026, 1, 1)) is None


@given(
    value=st.one_of(st.none(), st.text(), st.from_regex(r"\A[0-9. eE+-]{0,30}\Z")),
    now=st.datetimes(timezones=st.sampled_from([UTC, None])),
)
def test_parse_retry_after_never_raises(value: str | None, now: datetime) -> None:
    result = parse_retry_after(value, now)
    assert result is None or result > now


# -- TLS -------------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A one-page HTTPS server on 127.0.0.1 with a fresh self-signed certificate."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    body = json.dumps(usage_body()).encode()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                conn.settimeout(5)
                with context.wrap_socket(conn, server_side=True) as tls:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        request += chunk
                    tls.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                        + body
                    )
            except (ssl.SSLError, OSError):
                conn.close()  # the client refused our certificate: expected in one test

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", cert
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_untrusted_certificate_is_refused(tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    with pytest.raises(UsageError) as caught:
        fetch_usage(url, TOKEN, NOW)
    assert_no_token(caught.value)
    assert caught.value.kind is ErrorKind.NETWORK
    assert "secure connection" in caught.value.message


@pytest.mark.skipif(
    sys.platform != "linux", reason="the OS trust store reads SSL_CERT_FILE on Linux"
)
def test_certificate_trusted_by_the_os_store_works(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    usage = fetch_usage(url, TOKEN, NOW)
    assert usage.window("five_hour") is not None


# -- request ids ---------------------------------------------------------------------------------


def test_the_answers_request_id_travels_with_the_numbers(fake: FakeUsageAPI) -> None:
    usage = fetch(fake, Reply(200, usage_body(), headers={"request-id": "req_011CAbCdEf"}))
    assert usage.request_id == "req_011CAbCdEf"


def test_a_failure_keeps_its_request_id_from_the_header_or_the_body(fake: FakeUsageAPI) -> None:
    limited = rate_limited("600")
    first = fail(
        fake, Reply(429, limited.body, headers={**limited.headers, "request-id": "req_429"})
    )
    assert first.problem.request_id == "req_429"
    assert first.kind == ErrorKind.RATE_LIMITED

    body: dict[str, object] = {
        "type": "error",
        "error": {"type": "api_error"},
        "request_id": "req_inbody",
    }
    second = fail(fake, Reply(500, body, headers={"request-id": ""}))
    assert second.problem.request_id == "req_inbody"


@pytest.mark.parametrize("odd", ["req\x1b[2J", "x" * 500, "a b", "req_\u202e"])
def test_a_request_id_that_is_not_an_ids_shape_is_dropped(fake: FakeUsageAPI, odd: str) -> None:
    body: dict[str, object] = {"type": "error", "error": {"type": "api_error"}, "request_id": odd}
    assert fail(fake, Reply(500, body, headers={"request-id": ""})).problem.request_id == ""
