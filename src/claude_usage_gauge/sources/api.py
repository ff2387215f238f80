"""The HTTP client for the usage endpoint: one GET, every outcome mapped to `Usage` or `UsageError`.

Nothing here raises anything but `UsageError`, and no message, detail or log line carries the
token or the request headers. The caller decides when to call; this module only makes the call.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import re
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from claude_usage_gauge import __version__
from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.core.usage_parser import parse_usage
from claude_usage_gauge.sources.api_base import is_loopback, validate_api_base

logger = logging.getLogger(__name__)

USER_AGENT = f"claude-usage-gauge/{__version__}"
USAGE_PATH = "/api/oauth/usage"
BETA_HEADER = "oauth-2025-04-20"
MAX_BODY_BYTES = 1024 * 1024
# Error bodies only matter for their message; no need to read more of them.
_MAX_ERROR_BODY_BYTES = 64 * 1024
_DETAIL_CHARS = 200

_RETRY_SECONDS = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
# Printable ASCII without spaces: anything else cannot be a bearer token, and putting it in a
# header would make the HTTP library raise an error that quotes the value.
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+", re.ASCII)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


# -- Retry-After ----------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """When the server asks us to retry, or None when it did not say (or said nothing usable).

    Seconds (integer or decimal) greater than zero, or an HTTP date in the future. Never raises.
    """
    try:
        if value is None:
            return None
        text = value.strip()
        if _RETRY_SECONDS.fullmatch(text):
            seconds = float(text)
            if not math.isfinite(seconds) or seconds <= 0:
                return None
            return now + timedelta(seconds=seconds)
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when if when > now else None
    except Exception:
        # Garbage, overflow, a naive `now` against an aware date: all mean "not said".
        return None


# -- the deadline ---------------------------------------------------------------------------


class _Deadline:
    """One overall deadline for the whole call, enforced even against a server dribbling bytes.

    Per-operation timeouts alone let a server that sends a byte a second keep us forever, so a
    timer shuts the connection's socket down when the time is up; the blocked read then ends.
    The socket is learnt from the `trace` request extension as soon as the connection is made.
    """

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._streams: list[Any] = []
        self._finished = False
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._finished = True
        self._timer.cancel()

    @property
    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.end

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 0.001)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        stream = info.get("return_value") if event.endswith(".complete") else None
        if stream is not None and hasattr(stream, "get_extra_info"):
            with self._lock:
                self._streams.append(stream)

    def _fire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.fired = True
            streams = list(self._streams)
        for stream in reversed(streams):
            try:
                sock = stream.get_extra_info("socket")
                if isinstance(sock, socket.socket):
                    # The plain socket's shutdown, even for TLS: it wakes a blocked read without
                    # tearing down the TLS object under the reading thread.
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except Exception:  # noqa: S112 - already closed, or not a socket: nothing to stop
                continue


# -- helpers --------------------------------------------------------------------------------


def _ssl_verify() -> ssl.SSLContext | bool:
    """The OS trust store (works behind proxies with their own CA); httpx's default otherwise."""
    try:
        # Imported here so a broken or missing trust-store package only costs the fallback.
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except Exception:
        logger.debug("OS trust store unavailable; using the bundled CA certificates")
        return True


def _scrub(text: str, token: str) -> str:
    """One line, no token, at most ~200 characters."""
    from claude_usage_gauge.logs import mask_secrets

    text = _CONTROL.sub(" ", text).strip()[: _DETAIL_CHARS * 4]
    if token:
        text = text.replace(token, "[token]")
        text = _mask_token_parts(text, token)
    text = mask_secrets(text)
    if len(text) > _DETAIL_CHARS:
        text = text[: _DETAIL_CHARS - 1].rstrip() + "…"
    return text


_TOKEN_PART = 8  # a quoted run this long that also occurs in the token is taken for part of it


def _mask_token_parts(text: str, token: str) -> str:
    """Mask every run of 8+ characters that also occurs in the token (a server quoting its head
    or tail). Quadratic in the text, which is cut short before this is called."""
    out: list[str] = []
    i = 0
    while i < len(text):
        end = i + _TOKEN_PART
        if end <= len(text) and text[i:end] in token:
            while end < len(text) and text[i : end + 1] in token:
                end += 1
            out.append("[token]")
            i = end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _decode_json(data: bytes) -> object:
    return json.loads(data.decode("utf-8-sig"))


def _server_message(data: bytes, token: str) -> str:
    """The server's `error.message` (or a summary of an HTML page), trimmed and scrubbed."""
    try:
        raw = _decode_json(data)
    except ValueError:
        raw = None
    if isinstance(raw, dict):
        error = raw.get("error")
        message = error.get("message") if isinstance(error, dict) else raw.get("message")
        if isinstance(message, str):
            return _scrub(message, token)
        return ""
    text = data.decode("utf-8", errors="replace")
    if "<html" in text.lower() or "<!doctype" in text.lower():
        title = _HTML_TITLE.search(text)
        name = _scrub(title.group(1), token) if title else ""
        return f"an HTML page ({name})" if name else "an HTML page"
    return _scrub(text, token)


def _detail(status: int, message: str) -> str:
    return f"HTTP {status}: {message}" if message else f"HTTP {status}"


def _network_error(message: str, exc: BaseException | None, token: str) -> UsageError:
    detail = ""
    if exc is not None:
        detail = _scrub(f"{type(exc).__name__}: {exc}", token)
    return UsageError(ErrorKind.NETWORK, message, detail=detail)


def _describe_transport_error(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException | TimeoutError | socket.timeout):
        return "Could not reach the usage service: it did not answer in time."
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "name" in text or "resolution" in text or "nodename" in text or "getaddrinfo" in text:
            return "Could not reach the usage service: its name could not be looked up."
        if "refused" in text:
            return "Could not reach the usage service: the connection was refused."
        if "ssl" in text or "certificate" in text:
            return "Could not reach the usage service: the secure connection failed."
        return "Could not reach the usage service."
    if isinstance(exc, httpx.ProxyError):
        return "Could not reach the usage service through the proxy."
    if isinstance(exc, ssl.SSLError):
        return "Could not reach the usage service: the secure connection failed."
    return "The connection to the usage service was dropped."


# -- the call -------------------------------------------------------------------------------


def _classify(
    status: int, data: bytes, retry_after: str | None, now: datetime, token: str
) -> UsageError:
    """Every non-2xx answer as a `UsageError`."""
    message = _server_message(data, token)
    detail = _detail(status, message)
    lowered = data.decode("utf-8", errors="replace").lower()
    if status == 429:
        return UsageError(
            ErrorKind.RATE_LIMITED,
            "Rate limited by the usage service.",
            retry_at=parse_retry_after(retry_after, now),
            detail=detail,
        )
    if status == 401:
        return UsageError(
            ErrorKind.UNAUTHORIZED,
            "The usage service did not accept the sign-in (HTTP 401).",
            detail=detail,
        )
    if status == 403:
        if "scope" in lowered or "user:profile" in lowered:
            return UsageError(
                ErrorKind.MISSING_SCOPE,
                "This sign-in may not read usage: it lacks the user:profile permission.",
                detail=detail,
            )
        return UsageError(
            ErrorKind.UNAUTHORIZED,
            "The usage service refused the sign-in (HTTP 403).",
            detail=detail,
        )
    if status == 400 and "out of extra usage" in (message.lower() or lowered):
        return UsageError(
            ErrorKind.OUT_OF_EXTRA_USAGE,
            "The usage service says you are out of extra usage.",
            detail=detail,
        )
    if 300 <= status < 400:
        return UsageError(
            ErrorKind.SERVER_ERROR,
            f"The usage service answered with a redirect (HTTP {status}), which is not followed.",
            detail=detail,
        )
    if 400 <= status < 500:
        return UsageError(
            ErrorKind.SERVER_ERROR,
            f"The usage service refused the request (HTTP {status}).",
            detail=detail,
        )
    return UsageError(
        ErrorKind.SERVER_ERROR,
        f"The usage service had a problem (HTTP {status}).",
        detail=detail,
    )


def _read_body(response: httpx.Response, limit: int, deadline: _Deadline) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the body; the flag says the body was longer than that."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
        if deadline.expired:
            raise httpx.ReadTimeout("overall deadline passed while reading the body")
    return b"".join(chunks), False


def _declared_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers.get("content-length", ""))
    except ValueError:
        return None


def fetch_usage(
    base: str,
    token: str,
    now: datetime,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 15.0,
) -> Usage:
    """GET {base}/api/oauth/usage and return the parsed `Usage`; any failure is a `UsageError`.

    The whole call (connect, headers and body) ends within `timeout` seconds. Redirects are not
    followed, TLS is always verified, and a body over 1 MiB is refused without reading on.
    """
    root = validate_api_base(base)
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        raise UsageError(
            ErrorKind.BAD_CREDENTIALS,
            "The saved access token is not in a usable form.",
            detail="token is empty or has characters a token cannot have",
        )
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise UsageError(ErrorKind.CONFIG, "The request timeout must be a positive number.")

    headers = {
        "Authorization": f"Bearer {token}",
        "anthropic-beta": BETA_HEADER,
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        # A compressed body could expand far past the size limit before we can count it.
        "Accept-Encoding": "identity",
    }
    host = urlsplit(root).hostname or ""
    with _Deadline(timeout) as deadline:
        try:
            client = httpx.Client(
                transport=transport,
                follow_redirects=False,
                verify=_ssl_verify(),
                # Loopback (the fake API, demo mode) never goes through a proxy.
                trust_env=not is_loopback(host),
                timeout=httpx.Timeout(timeout),
            )
        except Exception as exc:
            logger.info("usage request not made: the HTTP client could not be set up")
            raise _network_error(
                "Could not set up the connection (check the proxy settings).", exc, token
            ) from None
        try:
            with client:
                return _exchange(
                    client,
                    url=root + USAGE_PATH,
                    headers=headers,
                    now=now,
                    token=token,
                    deadline=deadline,
                )
        except UsageError as error:
            logger.info("usage request failed: %s", error.kind.value)
            raise
        except Exception as exc:
            # Anything that escaped the specific handling below; never let it out unmapped.
            logger.info("usage request failed: %s", type(exc).__name__)
            if deadline.expired:
                raise _network_error(
                    "Could not reach the usage service: it did not answer in time.", exc, token
                ) from None
            raise _network_error(_describe_transport_error(exc), exc, token) from None


def _exchange(
    client: httpx.Client,
    *,
    url: str,
    headers: dict[str, str],
    now: datetime,
    token: str,
    deadline: _Deadline,
) -> Usage:
    request = client.build_request(
        "GET", url, headers=headers, extensions={"trace": deadline.trace}
    )
    try:
        response = client.send(request, stream=True)
    except (httpx.HTTPError, OSError, ValueError) as exc:
        logger.info("usage request: no answer (%s)", type(exc).__name__)
        if deadline.expired:
            raise _network_error(
                "Could not reach the usage service: it did not answer in time.", exc, token
            ) from None
        raise _network_error(_describe_transport_error(exc), exc, token) from None

    try:
        status = response.status_code
        logger.info("usage request: HTTP %d", status)
        success = 200 <= status < 300
        limit = MAX_BODY_BYTES if success else _MAX_ERROR_BODY_BYTES
        declared = _declared_length(response)
        if success and declared is not None and declared > MAX_BODY_BYTES:
            raise _too_large(status)
        try:
            data, too_long = _read_body(response, limit, deadline)
        except (httpx.HTTPError, OSError, ValueError) as exc:
            if deadline.expired or isinstance(exc, httpx.TimeoutException):
                raise _network_error(
                    "Could not reach the usage service: it did not answer in time.", exc, token
                ) from None
            if not success:
                # The status already says what happened; a cut-off error body changes nothing.
                raise _classify(
                    status, b"", response.headers.get("retry-after"), now, token
                ) from None
            raise UsageError(
                ErrorKind.BAD_RESPONSE,
                "The usage service's answer was cut off.",
                detail=_scrub(f"HTTP {status}: {type(exc).__name__}: {exc}", token),
            ) from None
        if not success:
            raise _classify(status, data, response.headers.get("retry-after"), now, token)
        if too_long:
            raise _too_large(status)
        return _parse(status, data, now)
    finally:
        response.close()


def _too_large(status: int) -> UsageError:
    return UsageError(
        ErrorKind.BAD_RESPONSE,
        "The usage service's answer was too large to be usage data.",
        detail=f"HTTP {status}: body larger than {MAX_BODY_BYTES} bytes",
    )


def _parse(status: int, data: bytes, now: datetime) -> Usage:
    try:
        raw = _decode_json(data)
    except ValueError:
        text = data[:512].decode("utf-8", errors="replace").lower()
        what = "an HTML page" if "<html" in text or "<!doctype" in text else "not JSON"
        raise UsageError(
            ErrorKind.BAD_RESPONSE,
            "The usage service answered with something that is not usage data.",
            detail=f"HTTP {status}: body is {what}",
        ) from None
    except RecursionError:
        raise UsageError(
            ErrorKind.BAD_RESPONSE,
            "The usage service answered with something that is not usage data.",
            detail=f"HTTP {status}: body nested too deeply",
        ) from None
    return parse_usage(raw, now)
