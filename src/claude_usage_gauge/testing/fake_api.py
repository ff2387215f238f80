"""A scriptable fake of the usage endpoint on 127.0.0.1, for tests and the demo mode.

It is a real HTTP server (stdlib, one thread per connection), so the real client, its timeouts and
its size limits are exercised over a real socket. Replies are scripted as a queue; when the queue
runs out, a responder (the demo) or the default reply answers every request.

Command line: ``python -m claude_usage_gauge.testing.fake_api --port 0 [--scenario NAME]`` prints
``URL <url>`` on its first line and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Self

logger = logging.getLogger(__name__)

USAGE_PATH = "/api/oauth/usage"
HOST = "127.0.0.1"

Body = bytes | str | dict[str, object] | list[object] | None
Responder = Callable[[int], "Reply"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer. A dict or list body is sent as JSON; None sends an empty body.

    Content-Length is added unless `headers` sets it or Transfer-Encoding (then the body is sent
    exactly as given, already framed).
    """

    status: int = 200
    body: Body = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # close the connection without any answer
    truncate: bool = False  # full Content-Length, half the body, then close
    trickle: float = 0.0  # seconds between 1-byte chunks; 0 sends the body at once
    reason: str | None = None  # the status line's reason phrase; None: the standard one


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    # Lower-cased names. Kept out of repr: it holds the (test) bearer token.
    headers: dict[str, str] = field(repr=False)
    at: float  # time.monotonic() when the request line and headers had arrived


# -- bodies and ready-made replies ------------------------------------------------------------


def _iso(moment: datetime) -> str:
    # The service writes microseconds and an explicit offset; so do we.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _severity(percent: float) -> str:
    if percent >= 90:
        return "critical"
    if percent >= 75:
        return "warning"
    return "normal"


def usage_body(
    five_hour: float | None = 42.0,
    seven_day: float | None = 18.0,
    *,
    resets_in_hours: float = 2.0,
    now: datetime | None = None,
    extra: dict[str, object] | None = None,
    limits: bool = False,
    **more: object,
) -> dict[str, object]:
    """A realistic usage body: flat windows, `extra_usage`, and with `limits=True` a `limits[]`.

    `extra` replaces the `extra_usage` object; `more` adds or replaces top-level keys.
    """
    moment = now or datetime.now(UTC)
    session_reset = moment + timedelta(hours=resets_in_hours)
    weekly_reset = moment + timedelta(days=3, hours=resets_in_hours)

    def window(percent: float | None, resets_at: datetime) -> dict[str, object] | None:
        if percent is None:
            return None
        return {"utilization": percent, "resets_at": _iso(resets_at)}

    body: dict[str, object] = {
        "five_hour": window(five_hour, session_reset),
        "seven_day": window(seven_day, weekly_reset),
        "seven_day_oauth_apps": None,
        "seven_day_opus": None,
        "seven_day_sonnet": None,
        "extra_usage": extra
        if extra is not None
        else {
            "is_enabled": False,
            "monthly_limit": None,
            "used_credits": None,
            "utilization": None,
            "currency": None,
        },
    }
    if limits:
        entries: list[object] = []
        for kind, percent, resets_at in (
            ("session", five_hour, session_reset),
            ("weekly_all", seven_day, weekly_reset),
        ):
            if percent is None:
                continue
            entries.append(
                {
                    "kind": kind,
                    "group": "default",
                    "percent": percent,
                    "severity": _severity(percent),
                    "resets_at": _iso(resets_at),
                    "scope": None,
                    "is_active": percent >= 100,
                }
            )
        body["limits"] = entries
    body.update(more)
    return body


def ok(
    five_hour: float | None = 42.0,
    seven_day: float | None = 18.0,
    *,
    resets_in_hours: float = 2.0,
    now: datetime | None = None,
    limits: bool = False,
) -> Reply:
    """200 with a `usage_body`."""
    body = usage_body(five_hour, seven_day, resets_in_hours=resets_in_hours, now=now, limits=limits)
    return Reply(200, body)


def api_error(status: int, error_type: str, message: str) -> Reply:
    """An error in the service's own JSON shape."""
    return Reply(status, {"type": "error", "error": {"type": error_type, "message": message}})


def rate_limited(retry_after: str | None = "0") -> Reply:
    """429, with a Retry-After header unless `retry_after` is None."""
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    reply = api_error(429, "rate_limit_error", "Rate limited. Please try again later.")
    return Reply(reply.status, reply.body, headers=headers)


def unauthorized() -> Reply:
    return api_error(401, "authentication_error", "OAuth token has expired.")


def missing_scope() -> Reply:
    return api_error(
        403, "permission_error", "OAuth token does not meet scope requirement user:profile"
    )


def out_of_extra_usage() -> Reply:
    return api_error(
        400,
        "invalid_request_error",
        "You're out of extra usage. Add more at claude.ai/settings/usage and keep going.",
    )


def html_error(status: int = 502) -> Reply:
    """A proxy's HTML error page, the kind outages produce."""
    try:
        title = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        title = f"{status} Error"
    page = (
        f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n"
        f"<body><center><h1>{title}</h1></center><hr><center>edge</center>\n"
        + "<!-- padding so the page is longer than any message we would show -->\n" * 20
        + "</body></html>\n"
    )
    return Reply(status, page, headers={"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, "", headers={"Location": location})


# -- the demo: a day compressed into a few minutes ----------------------------------------------

# Steps of one demo cycle; the cycle repeats so a long demo keeps moving.
_DEMO_RISE = 16  # requests over which the 5-hour window climbs from 5 % to ~97 %
# Retry-After of each 429 in the storm. Short positive waits: the app waits its floor for them
# (30 s, then 60 s), so the demo's storm passes in a minute and a half; a 0 or missing header
# would (rightly) mean 5 minutes.
_DEMO_STORM = ("5", "8")
_DEMO_RECOVER = 2  # high readings after the storm
_DEMO_AFTER_RESET = 4  # low readings after the session window reset
DEMO_CYCLE = _DEMO_RISE + len(_DEMO_STORM) + _DEMO_RECOVER + _DEMO_AFTER_RESET
_SESSION_HOURS = 5.0


def demo_reply(n: int, now: datetime) -> Reply:
    """The reply to the n-th request (0-based) of the demo scenario.

    Time advances per request, not per wall clock, so the sequence is the same on every run;
    `now` only anchors the reset times the client sees.
    """
    step = n % DEMO_CYCLE
    cycle = n // DEMO_CYCLE
    weekly_base = min(10.0 + 25.0 * cycle, 85.0)
    hour_per_step = _SESSION_HOURS / _DEMO_RISE

    if step < _DEMO_RISE:
        session = round(5.0 + (97.0 - 5.0) * step / (_DEMO_RISE - 1), 1)
        weekly = round(weekly_base + 12.0 * step / (_DEMO_RISE - 1), 1)
        left = max(_SESSION_HOURS - step * hour_per_step, 0.25)
        return ok(session, weekly, resets_in_hours=left, now=now, limits=True)
    step -= _DEMO_RISE
    if step < len(_DEMO_STORM):
        return rate_limited(_DEMO_STORM[step])
    step -= len(_DEMO_STORM)
    if step < _DEMO_RECOVER:
        return ok(97.0 + step, weekly_base + 12.0, resets_in_hours=0.25, now=now, limits=True)
    step -= _DEMO_RECOVER
    return ok(
        2.0 + step,
        weekly_base + 12.5,
        resets_in_hours=_SESSION_HOURS - step * hour_per_step,
        now=now,
        limits=True,
    )


def demo_responder(n: int) -> Reply:
    """`demo_reply` anchored at the wall clock: pass as `FakeUsageAPI(responder=...)`."""
    return demo_reply(n, datetime.now(UTC))


def demo_replies(cycles: int = 8, now: datetime | None = None) -> list[Reply]:
    """The demo as a finite script (`cycles` full days); `demo_responder` never runs out."""
    moment = now or datetime.now(UTC)
    return [demo_reply(n, moment) for n in range(cycles * DEMO_CYCLE)]


def _rate_limited_responder(n: int) -> Reply:
    return rate_limited("0")


SCENARIOS: dict[str, Responder | None] = {
    "healthy": None,
    "rate-limited": _rate_limited_responder,
    "demo": demo_responder,
}


# -- the server -------------------------------------------------------------------------------


def _encode(reply: Reply) -> tuple[bytes, dict[str, str]]:
    body = reply.body
    headers: dict[str, str] = {}
    if isinstance(body, dict | list):
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif isinstance(body, str):
        data = body.encode()
        headers["Content-Type"] = "text/plain; charset=utf-8"
    elif body is None:
        data = b""
    else:
        data = body
        headers["Content-Type"] = "application/octet-stream"
    # Every answer of the real service carries an id of its own; a reply may set its own.
    headers["request-id"] = f"req_fake{uuid.uuid4().hex[:20]}"
    # Reply headers win, matched case-insensitively.
    for name, value in reply.headers.items():
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value
    # A reply that sets Transfer-Encoding frames its body itself (e.g. chunked, no length).
    framed = any(k.lower() in ("content-length", "transfer-encoding") for k in headers)
    if not framed:
        headers["Content-Length"] = str(len(data))
    return data, headers


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeUsageAPI

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up early (it refused a bomb, its deadline passed) is expected.
        logger.debug("fake api: connection from %s ended early", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("fake api: " + format, *args)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def _answer(self) -> None:
        fake = self.server.fake
        path_only = self.path.split("?", 1)[0]
        reply: Reply
        if path_only != USAGE_PATH:
            fake._record(self, endpoint=False)
            reply = Reply(404, {"type": "error", "error": {"type": "not_found_error"}})
        elif self.command != "GET":
            fake._record(self, endpoint=False)
            reply = Reply(405, {"type": "error", "error": {"type": "method_not_allowed"}})
        else:
            reply = fake._record(self, endpoint=True)
        try:
            self._send(reply, fake._stopping)
        except (BrokenPipeError, ConnectionError, TimeoutError, OSError):
            # The client went away (e.g. it refused a huge body): nothing left to do.
            self.close_connection = True

    def _send(self, reply: Reply, stopping: threading.Event) -> None:
        if reply.delay > 0 and stopping.wait(reply.delay):
            self.close_connection = True
            return
        if reply.drop:
            self.close_connection = True
            # Reset rather than a polite close would also do; an EOF is what proxies usually give.
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        data, headers = _encode(reply)
        self.send_response(reply.status, reply.reason)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if reply.truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.trickle > 0:
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                if stopping.wait(reply.trickle):
                    self.close_connection = True
                    return
            return
        self.wfile.write(data)
        self.wfile.flush()


class FakeUsageAPI:
    """A scriptable fake of the usage endpoint; thread-safe. Use as a context manager."""

    def __init__(
        self,
        replies: Sequence[Reply] = (),
        *,
        default: Reply | None = None,
        responder: Responder | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: deque[Reply] = deque(replies)
        self._default = default if default is not None else ok()
        # Answers the n-th endpoint request (0-based) once the queue is empty (the demo uses it).
        self._responder = responder
        self._endpoint_count = 0
        self._requests: list[RecordedRequest] = []
        # Replies for one bearer token (two accounts against one fake): its queue, then its
        # default; other tokens get the shared queue and default.
        self._token_queues: dict[str, deque[Reply]] = {}
        self._token_defaults: dict[str, Reply] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, port: int = 0) -> Self:
        if self._server is not None:
            return self
        server = _Server((HOST, port), _Handler)
        server.fake = self
        self._stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake usage API is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # -- scripting ------------------------------------------------------------------------

    def script(self, replies: Sequence[Reply], *, default: Reply | None = None) -> None:
        """Replace the queue; once it runs out, `default` (or the current default) answers."""
        with self._lock:
            self._queue = deque(replies)
            if default is not None:
                self._default = default

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def script_token(
        self, token: str, replies: Sequence[Reply] = (), *, default: Reply | None = None
    ) -> None:
        """Answer requests bearing `token` with `replies`, then `default` (else the shared
        queue and default, as any other token)."""
        with self._lock:
            self._token_queues[token] = deque(replies)
            if default is not None:
                self._token_defaults[token] = default

    def requests_with_token(self, token: str) -> int:
        """How many requests carried `Authorization: Bearer <token>`."""
        wanted = f"Bearer {token}"
        with self._lock:
            return sum(1 for r in self._requests if r.headers.get("authorization") == wanted)

    # -- what happened --------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, on any path, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def wait_for_requests(self, n: int, timeout: float) -> bool:
        """True once at least `n` requests have arrived; False if `timeout` passes first."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._requests) >= n, timeout=timeout)

    def _record(self, handler: BaseHTTPRequestHandler, *, endpoint: bool) -> Reply:
        recorded = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={name.lower(): value for name, value in handler.headers.items()},
            at=time.monotonic(),
        )
        with self._changed:
            self._requests.append(recorded)
            self._changed.notify_all()
            if not endpoint:
                return self._default
            index = self._endpoint_count
            self._endpoint_count += 1
            token = recorded.headers.get("authorization", "").removeprefix("Bearer ")
            own = self._token_queues.get(token)
            if own:
                return own.popleft()
            if token in self._token_defaults:
                return self._token_defaults[token]
            if self._queue:
                return self._queue.popleft()
            responder = self._responder
        if responder is not None:
            return responder(index)
        return self._default


# -- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m claude_usage_gauge.testing.fake_api",
        description="Serve a fake of the usage endpoint on 127.0.0.1 until SIGTERM or SIGINT.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="healthy")
    args = parser.parse_args(argv)

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    with FakeUsageAPI(responder=SCENARIOS[args.scenario]).start(args.port) as fake:
        print(f"URL {fake.url}", flush=True)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not done.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
