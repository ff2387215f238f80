"""The fault matrix: multi-step scenarios of a misbehaving world, stepped the way the poller steps.

Each scenario is a list of phases: how the server answers (and what is done to the credentials
and the store) for a stretch of simulated time. A turn every 10 simulated seconds refreshes only
when the last decision's time has passed or the credentials changed, and publishes exactly what
the poller would publish. Everything is real but the clock: the fake API on 127.0.0.1, the HTTP
client, the store and its locks, the credentials files, tmpfs and read-only mounts.

After every turn the published view must tell the truth (the error kind is the one the last
request met, the last good numbers are still shown); each phase's requests stay within a budget
worked out here from the documented schedule rules (not from the schedule module); at the end
the credentials are untouched and the token is in no file we wrote and in no log line.

`run_matrix()` and `summary_table()` also serve the benchmark: they need no pytest.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import math
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.core.view import View, build_view
from claude_usage_gauge.core.window_ids import FIVE_HOUR
from claude_usage_gauge.refresh import Outcome, Refresher
from claude_usage_gauge.sources import api as api_module
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credentials import credentials_signature
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.fake_api import (
    FakeUsageAPI,
    Reply,
    api_error,
    html_error,
    missing_scope,
    out_of_extra_usage,
    rate_limited,
    unauthorized,
    usage_body,
)
from claude_usage_gauge.testing.hostile import bomb, encoded, nested
from tests.support.clock import FakeClock, start_time
from tests.support.temp_home import NEW_TOKEN, TOKEN, TempHome

STEP = 10.0  # seconds between turns, the poller's tick
INTERVAL = 180.0
REPUBLISH = 60.0  # the poller republishes the stored state at least this often
SLOW_TIMEOUT = 0.5  # the client's deadline; slow replies take 2 s
# The rules as documented (DESIGN, schedule's docstrings), restated here so the budget is an
# independent check of the schedule rather than a copy of it.
RATE_LADDER_FIRST, RATE_LADDER_MAX = 300.0, 3600.0
RETRY_AFTER_FLOOR_FIRST, RETRY_AFTER_CEILING = 30.0, 86400.0
BACKOFF_FIRST, BACKOFF_MAX = 30.0, 900.0
FRESH_FOR = 2 * INTERVAL + 60.0  # a snapshot older than this reads as stale


# -- how the server answers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One kind of server behaviour: the reply, what the client must make of it, and what the
    server asked for (Retry-After seconds), which the budget honours."""

    name: str
    reply: Callable[[datetime, float], Reply] | None  # (now, percent) -> Reply; None: refused
    expect: ErrorKind | None  # None: usage arrives
    retry_after: float | None = None


def _ok_reply(now: datetime, percent: float) -> Reply:
    # Resets far ahead, so the numbers shown are the numbers sent for the whole scenario.
    return Reply(200, usage_body(percent, 18.0, resets_in_hours=200.0, now=now))


def _oversized() -> bytes:
    return b"[" + b"0," * (12 * 1024 * 1024) + b"0]"  # 24 MiB of valid JSON


_OVERSIZED: list[bytes] = []


def _oversized_reply(now: datetime, percent: float) -> Reply:
    if not _OVERSIZED:
        _OVERSIZED.append(_oversized())
    return Reply(200, _OVERSIZED[0], headers={"Content-Type": "application/json"})


def _http_date(seconds: float) -> Callable[[datetime, float], Reply]:
    def reply(now: datetime, percent: float) -> Reply:
        return rate_limited(email.utils.format_datetime(now + timedelta(seconds=seconds), True))

    return reply


def _drift(**body: object) -> Callable[[datetime, float], Reply]:
    return lambda now, percent: Reply(200, dict(body))


OK = Answer("ok", _ok_reply, None)
UNKNOWN_KEYS = Answer(
    "unknown-keys",
    lambda now, p: Reply(
        200,
        usage_body(
            p,
            18.0,
            resets_in_hours=200.0,
            now=now,
            brand_new={"nested": [1, 2, {"x": None}]},
            seven_day_cowork={"utilization": 3.0, "resets_at": None, "limit_dollars": None},
            spend=[{"odd": True}],
        ),
    ),
    None,
)
LIMITS_ONLY = Answer(
    "limits-only",
    lambda now, p: Reply(
        200,
        {
            "limits": [
                {
                    "kind": "session",
                    "group": "default",
                    "percent": p,
                    "severity": "normal",
                    "resets_at": (now + timedelta(hours=200)).isoformat(),
                    "scope": None,
                    "is_active": False,
                }
            ]
        },
    ),
    None,
)
DROP = Answer("drop", lambda now, p: Reply(drop=True), ErrorKind.NETWORK)
REFUSED = Answer("refused", None, ErrorKind.NETWORK)
SLOW = Answer(
    "slow", lambda now, p: Reply(200, usage_body(p, now=now), delay=2.0), ErrorKind.NETWORK
)
JSON_500 = Answer(
    "json-500", lambda now, p: api_error(500, "api_error", "Internal error"), ErrorKind.SERVER_ERROR
)
HTML_502 = Answer("html-502", lambda now, p: html_error(502), ErrorKind.SERVER_ERROR)
HTML_503 = Answer("html-503", lambda now, p: html_error(503), ErrorKind.SERVER_ERROR)
TRUNCATED = Answer(
    "truncated",
    lambda now, p: Reply(200, usage_body(p, now=now), truncate=True),
    ErrorKind.BAD_RESPONSE,
)
OVERSIZED = Answer("oversized-24MiB", _oversized_reply, ErrorKind.BAD_RESPONSE)
NOT_JSON = Answer(
    "not-json", lambda now, p: Reply(200, "<<<not json at all>>>"), ErrorKind.BAD_RESPONSE
)
NULLS = Answer(
    "nulls-everywhere",
    _drift(five_hour=None, seven_day=None, limits=None, extra_usage=None, seven_day_opus=None),
    ErrorKind.BAD_RESPONSE,
)
WRONG_TYPES = Answer(
    "wrong-types",
    _drift(five_hour="42", seven_day=[18], limits={"kind": "session"}, extra_usage=7),
    ErrorKind.BAD_RESPONSE,
)
UNAUTHORIZED = Answer("401", lambda now, p: unauthorized(), ErrorKind.UNAUTHORIZED)
NO_SCOPE = Answer("403-scope", lambda now, p: missing_scope(), ErrorKind.MISSING_SCOPE)
OUT_OF_EXTRA = Answer(
    "400-extra", lambda now, p: out_of_extra_usage(), ErrorKind.OUT_OF_EXTRA_USAGE
)


BOMB = Answer(
    "stacked-gzip bomb (256 MiB inflated)",
    lambda now, p: bomb(256 * 1024 * 1024, ("gzip", "gzip")),
    ErrorKind.BAD_RESPONSE,
)
UNASKED_ENCODING = Answer(
    "br-encoded body",
    lambda now, p: Reply(200, b"\x1b\x00\x00", headers={"Content-Encoding": "br"}),
    ErrorKind.BAD_RESPONSE,
)
GZIPPED_OK = Answer(
    "ok, gzipped by a proxy",
    lambda now, p: encoded(
        200,
        json.dumps(usage_body(p, 18.0, resets_in_hours=200.0, now=now)).encode(),
        ["gzip"],
    ),
    None,
)
NESTED_429 = Answer(
    "429 nested 60k deep, retry-after=600",
    lambda now, p: nested(429, 60_000, headers={"Retry-After": "600"}),
    ErrorKind.RATE_LIMITED,
    600,
)
NESTED_401 = Answer(
    "401 nested 60k deep", lambda now, p: nested(401, 60_000), ErrorKind.UNAUTHORIZED
)


def rate(header: str | None, seconds: float | None = None) -> Answer:
    return Answer(
        f"429 retry-after={header!r}",
        lambda now, p: rate_limited(header),
        ErrorKind.RATE_LIMITED,
        seconds,
    )


RATE_DATE = Answer(
    "429 retry-after=<HTTP date +10 min>", _http_date(600), ErrorKind.RATE_LIMITED, 600
)


# -- what the scenario does to the world ---------------------------------------------------------


Event = Callable[["World"], None]


@dataclass(frozen=True)
class Phase:
    span: float  # simulated seconds
    answers: Sequence[Answer] = (OK,)  # the n-th request of the phase gets answers[n % len]
    events: Sequence[Event] = ()  # done at the start of the phase
    # A problem the sign-in itself has all through the phase: no request may go out.
    local: ErrorKind | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    phases: Sequence[Phase]
    needs_mount: bool = False
    known_bug: str = ""  # a reported bug that makes this scenario fail today


def minutes(n: float) -> float:
    return n * 60.0


# -- the world one scenario runs in -------------------------------------------------------------


EMPTY = "empty"  # the store was destroyed: nothing to show, no error to tell


@dataclass
class World:
    root: Path
    clock: FakeClock
    api: FakeUsageAPI
    home: TempHome = field(init=False)
    refresher: Refresher = field(init=False)
    dead_url: str = ""
    phase: Phase = field(default_factory=lambda: Phase(0))
    attempts: int = 0  # every call of the fetcher: received by the fake or refused
    phase_attempts_before: int = 0
    current_token: str = TOKEN
    expected_credentials: bytes | None = None
    mounts: list[Path] = field(default_factory=list)
    # The model of what the user must be shown, updated at every refresh.
    expect: ErrorKind | str | None = None
    last_good: float | None = None
    good_at: datetime | None = None
    sent_percent: float = 0.0
    last_fetch: ErrorKind | str | None = "none"
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home = TempHome(self.root, self.clock)
        self.write_credentials(TOKEN)
        self.dead_url = f"http://127.0.0.1:{_free_port()}"
        self.refresher = Refresher(
            store=Store(self.home.paths()),
            settings=Settings(api_base=self.api.url, poll_interval=INTERVAL),
            home=self.home.home,
            fetch=self.fetch,
            clock=self.clock,
            jitter=lambda: 0.5,
        )

    @property
    def paths(self) -> Path:
        return self.home.paths().state_dir

    @property
    def store_file(self) -> Path:
        return self.home.paths().store_file

    def write_credentials(self, token: str, expires_in: timedelta = timedelta(hours=8)) -> None:
        self.home.write_credentials(token, expires_in=expires_in)
        self.current_token = token
        self.expected_credentials = self.home.credentials_path.read_bytes()

    def respond(self, n: int) -> Reply:
        """The fake's responder: the phase's answer for this request, numbers unique per request."""
        answer = self._answer()
        self.sent_percent = float(1 + n % 97)
        assert answer.reply is not None
        return answer.reply(self.clock(), self.sent_percent)

    def _answer(self) -> Answer:
        # By the fetcher's count, not the fake's: a refused connect never reaches the fake.
        answers = self.phase.answers
        return answers[(self.attempts - 1 - self.phase_attempts_before) % len(answers)]

    def fetch(self, base: str, token: str, now: datetime) -> Usage:
        """The refresher's fetcher: the real client with a short deadline; counts every call."""
        self.attempts += 1
        if token != self.current_token:
            self.violations.append("sent a token that is not the current sign-in's")
        if self.phase.local is not None:
            self.violations.append(f"a request went out while the sign-in was {self.phase.local}")
        target = self.dead_url if self._answer().reply is None else base
        try:
            usage = api_module.fetch_usage(target, token, now, timeout=SLOW_TIMEOUT)
        except UsageError as exc:
            self.last_fetch = exc.kind
            raise
        self.last_fetch = None
        self.last_good = self.sent_percent
        self.good_at = now
        return usage


def _free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- events --------------------------------------------------------------------------------------


def expire_after(seconds: float) -> Event:
    """Claude Code writes a sign-in that expires (with the 5-minute margin) in `seconds`."""

    def event(world: World) -> None:
        world.write_credentials(world.current_token, timedelta(seconds=seconds + 300))

    return event


def relogin(token: str) -> Event:
    def event(world: World) -> None:
        world.write_credentials(token)

    return event


def delete_credentials(world: World) -> None:
    world.home.credentials_path.unlink()
    world.expected_credentials = None


def half_write_credentials(world: World) -> None:
    data = world.home.credentials_path.read_bytes()
    world.home.credentials_path.write_bytes(data[: len(data) // 2])
    world.expected_credentials = None


def credentials_become_directory(world: World) -> None:
    world.home.credentials_path.unlink()
    world.home.credentials_path.mkdir()
    world.expected_credentials = None


def credentials_unreadable(world: World) -> None:
    path = world.home.credentials_path
    if os.geteuid() == 0:
        # Root reads through any mode bits; a symlink loop fails every open, even root's.
        path.unlink()
        loop = path.with_name(".credentials.loop")
        loop.symlink_to(path.name)
        path.symlink_to(loop.name)
    else:
        path.chmod(0)
    world.expected_credentials = None


def credentials_become_fifo(world: World) -> None:
    """A named pipe where the sign-in was: reading it must not wait for a writer."""
    world.home.credentials_path.unlink()
    os.mkfifo(world.home.credentials_path, 0o600)
    world.expected_credentials = None


def credentials_point_at_dev_zero(world: World) -> None:
    """A symlink to /dev/zero: a file that never ends."""
    world.home.credentials_path.unlink()
    world.home.credentials_path.symlink_to("/dev/zero")
    world.expected_credentials = None


def credentials_become_sparse_gigabyte(world: World) -> None:
    """The sign-in's bytes followed by a hole to 1 GiB (nothing on disk, a lot to read)."""
    with world.home.credentials_path.open("r+b") as handle:
        handle.truncate(1 << 30)
    world.expected_credentials = None


def restore_credentials(world: World) -> None:
    path = world.home.credentials_path
    loop = path.with_name(".credentials.loop")
    if path.is_symlink():
        path.unlink()
        loop.unlink(missing_ok=True)
    elif path.is_dir():
        path.rmdir()
    elif path.exists() and not path.is_file():
        path.unlink()  # the pipe: writing the sign-in into it would wait for a reader
    elif path.exists():
        path.chmod(0o600)
    world.write_credentials(world.current_token)


def _destroyed(world: World) -> None:
    world.expect = EMPTY
    world.last_good = None
    world.good_at = None


def tear_store(world: World) -> None:
    data = world.store_file.read_bytes()
    world.store_file.write_bytes(data[: len(data) // 2])
    _destroyed(world)


def garbage_store(world: World) -> None:
    world.store_file.write_bytes(os.urandom(3000))
    _destroyed(world)


def future_store(world: World) -> None:
    world.store_file.write_text(json.dumps({"version": 99, "salt": "00" * 16, "gates": []}))
    _destroyed(world)


def store_file_becomes_directory(world: World) -> None:
    world.store_file.unlink(missing_ok=True)
    world.store_file.mkdir()
    _destroyed(world)


def store_file_becomes_fifo(world: World) -> None:
    """A named pipe at the state file: every reader must pass it by, the next write replaces it."""
    world.store_file.unlink(missing_ok=True)
    os.mkfifo(world.store_file, 0o600)
    _destroyed(world)


def store_file_back(world: World) -> None:
    world.store_file.rmdir()


def state_dir_becomes_file(world: World) -> None:
    shutil.rmtree(world.paths)
    world.paths.write_text("a file where the state directory was\n")
    _destroyed(world)


def state_dir_back(world: World) -> None:
    world.paths.unlink()


def _mount(world: World, *args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)
    world.mounts.append(world.paths)


def _unmount(world: World) -> None:
    subprocess.run(["umount", str(world.mounts.pop())], check=True, capture_output=True)


def state_dir_read_only(world: World) -> None:
    """The state directory (and what is in it) turns read-only, for root too: a ro bind mount."""
    world.paths.mkdir(parents=True, exist_ok=True)
    _mount(world, "--bind", str(world.paths), str(world.paths))
    subprocess.run(
        ["mount", "-o", "remount,bind,ro", str(world.paths)], check=True, capture_output=True
    )


def disk_full(world: World) -> None:
    """A 64 KiB tmpfs over the state directory, holding the current files, filled to the brim."""
    saved = {p.name: p.read_bytes() for p in world.paths.iterdir() if p.is_file()}
    _mount(world, "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(world.paths))
    for name, data in saved.items():
        (world.paths / name).write_bytes(data)
        (world.paths / name).chmod(0o600)
    with contextlib.suppress(OSError), (world.paths / "filler").open("wb") as filler:
        while True:
            filler.write(b"\0" * 1024)
            filler.flush()


def disk_back(world: World) -> None:
    _unmount(world)


# -- the scenarios ---------------------------------------------------------------------------------


def _storm(answer: Answer) -> Scenario:
    return Scenario(
        f"429 storm, {answer.name.removeprefix('429 ')}",
        (Phase(minutes(20)), Phase(minutes(180), (answer,)), Phase(minutes(30))),
    )


def _credentials_fault(name: str, event: Event, kind: ErrorKind) -> Scenario:
    return Scenario(
        f"credentials {name}",
        (
            Phase(minutes(10)),
            Phase(minutes(30), events=(event,), local=kind),
            Phase(minutes(20), events=(restore_credentials,)),
        ),
    )


def _store_fault(
    name: str, event: Event, undo: Event | None = None, mount: bool = False
) -> Scenario:
    """The store breaks in the middle of a 429 storm and stays broken through successes,
    more 429s and server errors, then heals."""
    return Scenario(
        f"store {name}",
        (
            Phase(minutes(10)),
            Phase(minutes(10), (rate("120", 120),)),
            Phase(minutes(40), (rate("120", 120), OK, JSON_500, OK), events=(event,)),
            Phase(minutes(20), events=(undo,) if undo else ()),
        ),
        needs_mount=mount,
    )


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("healthy", (Phase(minutes(120)),)),
    _storm(rate(None)),
    _storm(rate("0")),
    _storm(rate("120", 120)),
    _storm(RATE_DATE),
    _storm(rate("soon, maybe")),
    _storm(rate("999999999", 999999999)),
    _storm(rate("1" + "0" * 30)),  # overflows a date: treated as not said
    Scenario("flapping network (drop)", (Phase(minutes(120), (OK, DROP)),)),
    Scenario("flapping network (refused)", (Phase(minutes(120), (REFUSED, OK)),)),
    Scenario(
        "5xx burst",
        (
            Phase(minutes(10)),
            Phase(minutes(60), (JSON_500, HTML_502, HTML_503)),
            Phase(minutes(20)),
        ),
    ),
    Scenario("slow answers", (Phase(minutes(10)), Phase(minutes(30), (SLOW,)), Phase(minutes(10)))),
    Scenario(
        "bad bodies",
        (
            Phase(minutes(10)),
            Phase(minutes(40), (TRUNCATED, OVERSIZED, NOT_JSON, NULLS, WRONG_TYPES)),
            Phase(minutes(20)),
        ),
    ),
    Scenario("schema drift that still parses", (Phase(minutes(60), (UNKNOWN_KEYS, LIMITS_ONLY)),)),
    Scenario(
        "compressed bodies: bombs, unasked encodings, a gzipping proxy",
        (
            Phase(minutes(10)),
            Phase(minutes(40), (BOMB, UNASKED_ENCODING, GZIPPED_OK, BOMB)),
            Phase(minutes(20), (GZIPPED_OK,)),
        ),
    ),
    _storm(NESTED_429),
    Scenario(
        "401 nested 60k deep, then a new sign-in",
        (
            Phase(minutes(10)),
            Phase(minutes(60), (NESTED_401,)),
            Phase(minutes(20), events=(relogin(NEW_TOKEN),)),
        ),
    ),
    Scenario(
        "out of extra usage",
        (Phase(minutes(10)), Phase(minutes(40), (OUT_OF_EXTRA,)), Phase(minutes(10))),
    ),
    Scenario(
        "token expires mid-run, then renewed",
        (
            Phase(minutes(20), events=(expire_after(minutes(20)),)),
            Phase(minutes(60), local=ErrorKind.TOKEN_EXPIRED),
            Phase(minutes(20), events=(relogin(NEW_TOKEN),)),
        ),
    ),
    Scenario(
        "401, then a new sign-in",
        (
            Phase(minutes(10)),
            Phase(minutes(60), (UNAUTHORIZED,)),
            Phase(minutes(20), events=(relogin(NEW_TOKEN),)),
        ),
    ),
    Scenario(
        "403 scope, then a new sign-in",
        (
            Phase(minutes(10)),
            Phase(minutes(60), (NO_SCOPE,)),
            Phase(minutes(20), events=(relogin(NEW_TOKEN),)),
        ),
    ),
    _credentials_fault("deleted", delete_credentials, ErrorKind.NO_CREDENTIALS),
    _credentials_fault("half-written", half_write_credentials, ErrorKind.BAD_CREDENTIALS),
    _credentials_fault(
        "replaced by a directory", credentials_become_directory, ErrorKind.BAD_CREDENTIALS
    ),
    _credentials_fault("unreadable", credentials_unreadable, ErrorKind.BAD_CREDENTIALS),
    _credentials_fault("a named pipe", credentials_become_fifo, ErrorKind.BAD_CREDENTIALS),
    _credentials_fault("/dev/zero", credentials_point_at_dev_zero, ErrorKind.BAD_CREDENTIALS),
    _credentials_fault(
        "a sparse gigabyte", credentials_become_sparse_gigabyte, ErrorKind.BAD_CREDENTIALS
    ),
    _store_fault("torn mid-run", tear_store),
    _store_fault("file is a named pipe", store_file_becomes_fifo),
    _store_fault("garbage", garbage_store),
    _store_fault("from a future version", future_store),
    _store_fault("file is a directory", store_file_becomes_directory, store_file_back),
    _store_fault("directory is a file", state_dir_becomes_file, state_dir_back),
    _store_fault("read-only directory", state_dir_read_only, disk_back, mount=True),
    _store_fault("full disk", disk_full, disk_back, mount=True),
)


# -- the budget ------------------------------------------------------------------------------------


def _gap(answer: Answer, streak: int) -> float:
    """The shortest wait the documented rules allow after the `streak`-th answer of its kind."""
    kind = answer.expect
    if kind is None:
        return INTERVAL
    if kind.needs_new_credentials:
        return math.inf  # nothing until the sign-in changes
    if kind == ErrorKind.RATE_LIMITED:
        if answer.retry_after is None:
            return min(RATE_LADDER_FIRST * 2.0 ** (streak - 1), RATE_LADDER_MAX)
        floor = min(RETRY_AFTER_FLOOR_FIRST * 2.0 ** (streak - 1), RATE_LADDER_MAX)
        return max(min(answer.retry_after, RETRY_AFTER_CEILING), floor)
    assert kind.transient
    return min(BACKOFF_FIRST * 2.0 ** (streak - 1), BACKOFF_MAX)


def _family(kind: ErrorKind | None) -> str:
    if kind is None:
        return "ok"
    return "rate" if kind == ErrorKind.RATE_LIMITED else "other"


def phase_budget(phase: Phase) -> int:
    """Most requests the rules allow in the phase: one at its start (a change of sign-in or of
    store may allow it), then one per shortest wait. Streaks restart with each new kind, which
    only ever shortens the waits, so this is an upper bound."""
    if phase.local is not None:
        return 0
    at, count, streak, family = 0.0, 0, 0, ""
    while at < phase.span:
        answer = phase.answers[count % len(phase.answers)]
        count += 1
        streak = streak + 1 if _family(answer.expect) == family else 1
        family = _family(answer.expect)
        at += _gap(answer, streak)
    return count


# -- one turn as the poller takes it, and the truth check ------------------------------------------


@dataclass
class Turns:
    """The poller's loop body, minus the thread: when to refresh, what to publish."""

    world: World
    republish: Callable[[Refresher], State]
    next_due: datetime | None = None
    last_signature: str | None = None
    last_mtime: int | None = None
    last_publish: datetime | None = None
    published: State | None = None
    refreshes: int = 0
    crashes: list[str] = field(default_factory=list)

    def turn(self) -> None:
        world = self.world
        refresher = world.refresher
        now = world.clock()
        signature = credentials_signature(ClaudeHome.from_environ(world.home.environ))
        due = self.next_due is None or now >= self.next_due or signature != self.last_signature
        self.last_signature = signature
        state: State | None = None
        if due:
            attempts = world.attempts
            try:
                outcome: Outcome | None = refresher.refresh()
            except Exception as exc:  # the point of the matrix: count it, go on
                self.crashes.append(f"{type(exc).__name__}: {exc}")
                outcome = None
            self.refreshes += 1
            self._learn(requested=world.attempts > attempts)
            if outcome is not None:
                state = outcome.state
                if outcome.requested:
                    self.next_due = now
                elif outcome.decision is not None and outcome.decision.at is not None:
                    self.next_due = outcome.decision.at
                else:
                    self.next_due = now + timedelta(days=365)
        try:
            mtime: int | None = refresher.store.paths.store_file.stat().st_mtime_ns
        except OSError:
            mtime = None
        if state is None and (
            mtime != self.last_mtime
            or self.last_publish is None
            or now - self.last_publish >= timedelta(seconds=REPUBLISH)
        ):
            state = self.republish(refresher)
        self.last_mtime = mtime
        if state is not None:
            self.published = state
            self.last_publish = now

    def _learn(self, *, requested: bool) -> None:
        """What the user must now be told, from what the test itself did and saw."""
        world = self.world
        if requested:
            world.expect = world.last_fetch if isinstance(world.last_fetch, ErrorKind) else None
        elif world.phase.local is not None:
            world.expect = world.phase.local
        elif (
            isinstance(world.expect, ErrorKind)
            and world.expect.needs_new_credentials
            and world.expect not in (ErrorKind.UNAUTHORIZED, ErrorKind.MISSING_SCOPE)
        ):
            world.expect = None  # the sign-in reads fine again: its problem is cured

    def check(self) -> str | None:
        """The published view against the model; a description of the first lie, or None."""
        world = self.world
        if self.published is None:
            return None
        now = world.clock()
        view = build_view(self.published, now, world.refresher.settings)
        return honest(view, world.expect, world.last_good, world.good_at, now)


def honest(
    view: View,
    expect: ErrorKind | str | None,
    last_good: float | None,
    good_at: datetime | None,
    now: datetime,
) -> str | None:
    shown = view.percent(FIVE_HOUR)
    if last_good is not None and shown != last_good:
        return f"shows {shown} % where the last good answer said {last_good} %"
    kind = view.error.kind if view.error else None
    if expect == EMPTY:
        if view.state != DisplayState.STARTING:
            return f"state {view.state} after the store was destroyed (expected starting)"
        return None
    if expect is None:
        if kind is not None:
            return f"reports {kind} after a success"
        if last_good is None or good_at is None:
            return None
        want = (
            DisplayState.FRESH
            if now - good_at <= timedelta(seconds=FRESH_FOR)
            else DisplayState.STALE
        )
        return None if view.state == want else f"state {view.state}, expected {want}"
    assert isinstance(expect, ErrorKind)
    if kind != expect:
        return f"reports {kind}, expected {expect}"
    if last_good is not None and not view.stale:
        return "numbers not marked stale after a failure"
    if expect.needs_new_credentials:
        want = DisplayState.SIGNED_OUT
    elif expect == ErrorKind.RATE_LIMITED:
        want = DisplayState.RATE_LIMITED
        if view.error is None or view.error.retry_at is None:
            return "rate limited without saying when the next try is"
    else:
        want = DisplayState.STALE if last_good is not None else DisplayState.ERROR
    return None if view.state == want else f"state {view.state}, expected {want}"


# -- running a scenario ----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    steps: int = 0
    refreshes: int = 0
    crashes: int = 0
    received: int = 0  # requests the fake saw
    attempts: int = 0  # fetch calls (received + refused connects)
    budget: int = 0
    problems: list[str] = field(default_factory=list)
    skipped: str = ""
    known_bug: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.crashes


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def _captured_logs() -> Iterator[_Collect]:
    logger = logging.getLogger("claude_usage_gauge")
    handler = _Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(message)s %(exc_info)s"))
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def mount_permitted(root: Path) -> bool:
    probe = root / "mount-probe"
    probe.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(probe)],
        check=False,
        capture_output=True,
    )
    if done.returncode != 0:
        return False
    subprocess.run(["umount", str(probe)], check=True, capture_output=True)
    return True


def poller_republish(refresher: Refresher) -> State:
    """What poller.py publishes on a turn without a refresh (store changed, or a minute passed):
    the refresher's view, which holds newer state while the store cannot be written."""
    return refresher.current_state()


def run_scenario(
    scenario: Scenario, root: Path, republish: Callable[[Refresher], State] = poller_republish
) -> Result:
    result = Result(scenario.name, known_bug=scenario.known_bug)
    if scenario.needs_mount and (shutil.which("mount") is None or not mount_permitted(root)):
        result.skipped = "mount not permitted here"
        return result
    clock = FakeClock(start_time())
    t0 = clock()
    worlds: list[World] = []  # the world needs the fake's address, the fake the world's answers

    def responder(n: int) -> Reply:
        return worlds[0].respond(n)

    with FakeUsageAPI(responder=responder) as api, _captured_logs() as logs:
        world = World(root, clock, api)
        worlds.append(world)
        turns = Turns(world, republish)
        try:
            for index, phase in enumerate(scenario.phases):
                world.phase = phase
                world.phase_attempts_before = world.attempts
                for event in phase.events:
                    event(world)
                budget = phase_budget(phase)
                result.budget += budget
                for _ in range(int(phase.span // STEP)):
                    turns.turn()
                    result.steps += 1
                    lie = turns.check()
                    if lie is not None:
                        result.problems.append(f"phase {index + 1}, {clock() - t0}: {lie}")
                    clock.advance(STEP)
                spent = world.attempts - world.phase_attempts_before
                if spent > budget:
                    result.problems.append(f"phase {index + 1}: {spent} requests, budget {budget}")
        finally:
            while world.mounts:
                _unmount(world)
        result.refreshes = turns.refreshes
        result.crashes = len(turns.crashes)
        result.problems.extend(turns.crashes[:3])
        result.problems.extend(world.violations[:3])
        result.received = api.request_count
        result.attempts = world.attempts
        if result.received > result.attempts:
            result.problems.append("the fake saw requests the fetcher never made")
        _check_nothing_lost(world, logs.lines, result)
    # Keep the first few lies: one fault tends to repeat at every turn.
    del result.problems[8:]
    return result


def _check_nothing_lost(world: World, log_lines: list[str], result: Result) -> None:
    path = world.home.credentials_path
    actual = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    if actual != world.expected_credentials:
        result.problems.append("the credentials file changed")
    leftovers = list(world.root.rglob(".state.json.*.tmp"))
    if leftovers:
        result.problems.append(f"{len(leftovers)} temp files left beside the store")
    for token in (TOKEN, NEW_TOKEN):
        for found in world.root.rglob("*"):
            if found.is_relative_to(world.home.claude_dir) or not found.is_file():
                continue
            if token.encode() in found.read_bytes():
                result.problems.append(f"token found in {found.relative_to(world.root)}")
        if any(token in line for line in log_lines):
            result.problems.append("token found in a log line")


def run_matrix(scenarios: Sequence[Scenario] = SCENARIOS) -> list[Result]:
    """Every scenario, each in its own temporary directory (for the benchmark)."""
    results = []
    for scenario in scenarios:
        with tempfile.TemporaryDirectory(prefix="fault-matrix-") as tmp:
            results.append(run_scenario(scenario, Path(tmp)))
    return results


def summary_table(results: Sequence[Result]) -> str:
    width = max(len(r.name) for r in results)
    head = f"{'scenario':<{width}}  steps  crashes  spent  refused  budget  result"
    lines = [head, "-" * len(head)]
    for r in results:
        if r.skipped:
            verdict = f"skipped ({r.skipped})"
        else:
            verdict = "ok" if r.ok else f"FAIL: {r.problems[0]}"
            if r.known_bug and not r.ok:
                verdict = f"known bug: {r.problems[0]}"
        lines.append(
            f"{r.name:<{width}}  {r.steps:>5}  {r.crashes:>7}  {r.attempts:>5}  "
            f"{r.attempts - r.received:>7}  {r.budget:>6}  {verdict}"
        )
    ran = [r for r in results if not r.skipped]
    lines.append("-" * len(head))
    lines.append(
        f"{len(ran)} scenarios run, {sum(not r.ok and not r.known_bug for r in ran)} failed, "
        f"{sum(not r.ok and bool(r.known_bug) for r in ran)} failing on a known bug, "
        f"{sum(r.crashes for r in ran)} crashes, {sum(r.attempts for r in ran)} requests "
        f"of a budget of {sum(r.budget for r in ran)}"
    )
    return "\n".join(lines)


# -- pytest ------------------------------------------------------------------------------------

RESULTS: list[Result] = []


@pytest.fixture(scope="module", autouse=True)
def _print_summary() -> Iterator[None]:
    yield
    if RESULTS:
        print("\n" + summary_table(RESULTS))


def _param(scenario: Scenario) -> object:
    marks = (
        [pytest.mark.xfail(strict=True, reason=scenario.known_bug)] if scenario.known_bug else []
    )
    return pytest.param(scenario, id=scenario.name, marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_scenario(scenario: Scenario, tmp_path: Path) -> None:
    result = run_scenario(scenario, tmp_path)
    RESULTS.append(result)
    if result.skipped:
        pytest.skip(result.skipped)
    assert result.crashes == 0, result.problems
    assert result.ok, "\n".join(result.problems)


def test_budgets_follow_the_documented_ladders() -> None:
    # The budget itself, checked against the ladders as written: 5, 10, 20, 40, 60, 60 … minutes.
    assert phase_budget(Phase(minutes(180), (rate("0"),))) == 6  # at 0, 5, 15, 35, 75, 135
    assert phase_budget(Phase(minutes(120))) == math.ceil(7200 / INTERVAL)
    # 30 s doubling to 15 min: 0, .5, 1.5, 3.5, 7.5, 15.5, 30.5, 45.5 minutes.
    assert phase_budget(Phase(minutes(46), (JSON_500,))) == 8
    assert phase_budget(Phase(minutes(60), local=ErrorKind.NO_CREDENTIALS)) == 0
    assert phase_budget(Phase(minutes(60), (UNAUTHORIZED,))) == 1
