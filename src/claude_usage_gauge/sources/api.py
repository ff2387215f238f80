"""The HTTP client for the usage endpoint: one GET, every outcome mapped to `Usage` or `UsageError`.

Nothing here raises anything but `UsageError`, and no message, detail or log line carries the
token or the request headers. The caller decides when to call; this module only makes the call.
"""

from __future__ import annotations

import logging
import math
import re
import socket
import ssl
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from claude_usage_gauge import __version__
from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.sources.api_base import is_loopback, validate_api_base
from claude_usage_gauge.sources.api_body import BodyRefused, read_capped
from claude_usage_gauge.sources.api_reply import (
    MAX_BODY_BYTES,
    MAX_ERROR_BODY_BYTES,
    classify,
    parse,
    parse_retry_after,
    request_id,
    scrub,
    too_large,
    unreadable,
    with_request_id,
)

__all__ = ["MAX_BODY_BYTES", "USER_AGENT", "fetch_usage", "parse_retry_after"]

logger = logging.getLogger(__name__)

USER_AGENT = f"claude-usage-gauge/{__version__}"
USAGE_PATH = "/api/oauth/usage"
BETA_HEADER = "oauth-2025-04-20"

# Printable ASCII without spaces: anything else cannot be a bearer token, and putting it in a
# header would make the HTTP library raise an error that quotes the value.
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+", re.ASCII)


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


def _network_error(message: str, exc: BaseException | None, token: str) -> UsageError:
    detail = ""
    if exc is not None:
        detail = scrub(f"{type(exc).__name__}: {exc}", token)
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


def _read_body(response: httpx.Response, success: bool, deadline: _Deadline) -> tuple[bytes, bool]:
    """The body as we decode it ourselves (see api_body): raw bytes from the wire, inflated in
    small counted steps, never more than the cap."""

    def check() -> None:
        if deadline.expired:
            raise httpx.ReadTimeout("overall deadline passed while reading the body")

    limit = MAX_BODY_BYTES if success else MAX_ERROR_BODY_BYTES
    if response.is_stream_consumed:
        # Only an in-memory test transport hands over a body httpx has read (and decoded).
        return read_capped([response.content], None, limit, check)
    encoding = response.headers.get("content-encoding")
    return read_capped(response.iter_raw(), encoding, limit, check)


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
    followed, TLS is always verified, and a body over 1 MiB (as decoded) is refused without
    reading on.
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
    # Whoever logs during the call (httpx, a proxy library), the exact token is masked.
    from claude_usage_gauge.logs import remember_secret

    remember_secret(token)

    headers = {
        "Authorization": f"Bearer {token}",
        "anthropic-beta": BETA_HEADER,
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        # We read raw bytes and inflate them ourselves in counted steps (api_body), but asking
        # for none keeps honest servers from compressing at all.
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

    data = b""  # the body, once read: an error body may name the request id
    try:
        status = response.status_code
        logger.info("usage request: HTTP %d", status)
        success = 200 <= status < 300
        retry_after = response.headers.get("retry-after")
        declared = _declared_length(response)
        if success and declared is not None and declared > MAX_BODY_BYTES:
            raise too_large(status)
        try:
            data, too_long = _read_body(response, success, deadline)
        except BodyRefused as refused:
            if not success:  # the status says what happened; only the message is lost
                raise classify(status, b"", retry_after, now, token) from None
            raise unreadable(status, str(refused)) from None
        except (httpx.HTTPError, OSError, ValueError) as exc:
            if deadline.expired or isinstance(exc, httpx.TimeoutException):
                raise _network_error(
                    "Could not reach the usage service: it did not answer in time.", exc, token
                ) from None
            if not success:
                # The status already says what happened; a cut-off error body changes nothing.
                raise classify(status, b"", retry_after, now, token) from None
            raise UsageError(
                ErrorKind.BAD_RESPONSE,
                "The usage service's answer was cut off.",
                detail=scrub(f"HTTP {status}: {type(exc).__name__}: {exc}", token),
            ) from None
        if not success:
            raise classify(status, data, retry_after, now, token)
        if too_long:
            raise too_large(status)
        return replace(parse(status, data, now), request_id=request_id(response, b""))
    except UsageError as error:
        # Support asks for the answer's request id: keep it with the failure it explains.
        raise with_request_id(error, request_id(response, data)) from None
    finally:
        response.close()
