"""`claude-usage-gauge status`, run for real in a subprocess against the fake usage API.

Every case checks the exit code, that no traceback and no token reach the output or any file the
app wrote, and how many requests the fake received: the store and its gates exist so that the
server is asked as seldom as possible.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from claude_usage_gauge.testing.fake_api import (
    FakeUsageAPI,
    Reply,
    api_error,
    html_error,
    missing_scope,
    ok,
    out_of_extra_usage,
    rate_limited,
    redirect,
    unauthorized,
    usage_body,
)
from tests.support.cli_home import (
    SECOND_TOKEN,
    TOKEN,
    CliHome,
    assert_status_shape,
    closed_port,
    error_kind,
    in_parallel,
    parse_time,
    percents,
    seed_home,
)

FLAT = {"five_hour": 42.0, "seven_day": 18.0}


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as api:
        yield api


@pytest.fixture
def home(tmp_path: Path, fake: FakeUsageAPI) -> CliHome:
    cli_home = CliHome(tmp_path / "home", fake.url)
    cli_home.write_credentials()
    return cli_home


@dataclass(frozen=True)
class Seeded:
    """A home where the real command has fetched the default usage once (stored, fresh)."""

    home: CliHome
    data: dict[str, object]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return Seeded(*seed_home(tmp_path_factory.mktemp("seeded") / "home"))


# -- success -------------------------------------------------------------------------------


def test_json_for_a_flat_body(home: CliHome, fake: FakeUsageAPI) -> None:
    before = datetime.now(UTC)
    proc, data = home.status_json()

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_status_shape(data)
    assert percents(data) == FLAT
    windows = data["windows"]
    assert isinstance(windows, list)
    assert [w["label"] for w in windows] == ["5-hour session", "Week (all models)"]
    session_reset = parse_time(windows[0]["resets_at"])
    assert timedelta(hours=1) < session_reset - before < timedelta(hours=3)
    assert data["extra_usage"] == {
        "enabled": False,
        "used": None,
        "limit": None,
        "currency": None,
        "percent": None,
    }
    assert data["source"] == "api"
    assert data["stale"] is False
    assert data["error"] is None
    assert parse_time(data["fetched_at"]) >= before - timedelta(seconds=1)

    assert fake.request_count == 1
    request = fake.requests[0]
    assert request.method == "GET"
    assert request.path == "/api/oauth/usage"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert request.headers["user-agent"].startswith("claude-usage-gauge/")
    home.assert_clean(proc)


def test_human_for_a_flat_body(home: CliHome, fake: FakeUsageAPI) -> None:
    proc = home.run("status")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("5-hour session: 42 % · resets ")
    assert lines[1].startswith("Week (all models): 18 % · resets ")
    assert "Extra usage: off" in lines
    assert any(line.startswith("Updated just now · from the usage service") for line in lines)
    assert "stale" not in proc.stdout
    assert "Problem" not in proc.stdout
    assert fake.request_count == 1
    home.assert_clean(proc)


def test_limits_body_shows_each_window_once(home: CliHome, fake: FakeUsageAPI) -> None:
    body = usage_body(55.0, 20.0, limits=True)
    limits = body["limits"]
    assert isinstance(limits, list)
    limits.append(
        {
            "kind": "weekly_scoped",
            "group": "default",
            "percent": 33.0,
            "severity": "normal",
            "resets_at": "1970-01-01T00:00:00+00:00",
            "scope": {"model": {"id": "claude-sonnet-x", "display_name": "Sonnet"}},
            "is_active": False,
        }
    )
    fake.script([Reply(200, body)])

    proc, data = home.status_json()
    assert proc.returncode == 0
    assert_status_shape(data)
    assert percents(data) == {"five_hour": 55.0, "seven_day": 20.0, "seven_day_sonnet": 33.0}
    windows = data["windows"]
    assert isinstance(windows, list)
    scoped = windows[2]
    assert scoped["label"] == "Week (Sonnet)"
    assert scoped["resets_at"] is None  # the epoch means "no reset scheduled"

    # A second reading comes from the store; the human form shows the same windows once each.
    text = home.run("status")
    assert text.returncode == 0
    assert sum(line.startswith("5-hour session:") for line in text.stdout.splitlines()) == 1
    assert sum(line.startswith("Week (all models):") for line in text.stdout.splitlines()) == 1
    assert "Week (Sonnet): 33 %" in text.stdout
    assert fake.request_count == 1
    home.assert_clean(proc, text)


def test_extra_usage_is_shown_in_major_units(home: CliHome, fake: FakeUsageAPI) -> None:
    extra = {
        "is_enabled": True,
        "monthly_limit": 5000,
        "used_credits": 2050,
        "utilization": 41.0,
        "currency": "USD",
    }
    fake.script([Reply(200, usage_body(extra=extra))])

    proc, data = home.status_json()
    text = home.run("status")

    assert proc.returncode == 0
    assert_status_shape(data)
    assert data["extra_usage"] == {
        "enabled": True,
        "used": 20.5,
        "limit": 50.0,
        "currency": "USD",
        "percent": 41.0,
    }
    assert text.returncode == 0
    assert "Extra usage: $20.50 of $50.00" in text.stdout.splitlines()
    assert fake.request_count == 1
    home.assert_clean(proc, text)


# -- every failure from the server, with and without earlier data --------------------------


def _http_date(moment: datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)


@dataclass(frozen=True)
class Failure:
    kind: str
    reply: Reply | None  # None: the API base points at a closed port
    # When the next try is shown, relative to the moment of the request: (earliest, latest).
    retry_in: tuple[timedelta, timedelta] | None


_MINUTE = timedelta(minutes=1)
_RATE_LIMIT_DEFAULT = (timedelta(minutes=5) - _MINUTE, timedelta(minutes=5.5) + _MINUTE)
_BACKOFF = (timedelta(seconds=30) - _MINUTE, timedelta(seconds=33) + _MINUTE)
_HUGE = 24 * 1024 * 1024


def _chunked(size: int) -> Reply:
    """A body of `size` bytes with no declared length: only counting while reading can stop it."""
    payload = b'{"five_hour": ' + b" " * size + b"}"
    framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
    return Reply(200, framed, headers={"Transfer-Encoding": "chunked"})


def _failures() -> dict[str, Callable[[], Failure]]:
    # Built per test: an HTTP date must be in the future when the test runs.
    return {
        "429-no-retry-after": lambda: Failure(
            "rate_limited", rate_limited(None), _RATE_LIMIT_DEFAULT
        ),
        "429-retry-after-0": lambda: Failure(
            "rate_limited", rate_limited("0"), _RATE_LIMIT_DEFAULT
        ),
        "429-retry-after-seconds": lambda: Failure(
            "rate_limited",
            rate_limited("900"),
            (timedelta(seconds=900) - _MINUTE, timedelta(seconds=900) + _MINUTE),
        ),
        "429-retry-after-http-date": lambda: Failure(
            "rate_limited",
            rate_limited(_http_date(datetime.now(UTC) + timedelta(hours=2))),
            (timedelta(hours=2) - 2 * _MINUTE, timedelta(hours=2) + _MINUTE),
        ),
        "401": lambda: Failure("unauthorized", unauthorized(), None),
        "403-scope": lambda: Failure("missing_scope", missing_scope(), None),
        "400-out-of-extra-usage": lambda: Failure(
            "out_of_extra_usage", out_of_extra_usage(), _BACKOFF
        ),
        "500-json": lambda: Failure(
            "server_error", api_error(500, "api_error", "Internal server error"), _BACKOFF
        ),
        "502-html": lambda: Failure("server_error", html_error(502), _BACKOFF),
        "redirect-not-followed": lambda: Failure(
            "server_error", redirect("/api/oauth/usage?again=1"), _BACKOFF
        ),
        "closed-port": lambda: Failure("network", None, _BACKOFF),
        "dropped-connection": lambda: Failure("network", Reply(drop=True), _BACKOFF),
        "not-json": lambda: Failure(
            "bad_response", Reply(200, "this is not json at all"), _BACKOFF
        ),
        "no-windows": lambda: Failure(
            "bad_response", Reply(200, {"five_hour": None, "extra_usage": None}), _BACKOFF
        ),
        "24-MiB-body": lambda: Failure(
            "bad_response", Reply(200, b'{"five_hour": ' + b" " * _HUGE + b"}"), _BACKOFF
        ),
        "24-MiB-body-chunked": lambda: Failure("bad_response", _chunked(_HUGE), _BACKOFF),
        "429-retry-after-days": lambda: Failure(
            "rate_limited",
            rate_limited(str(10 * 24 * 3600)),
            (timedelta(hours=24) - _MINUTE, timedelta(hours=24) + _MINUTE),
        ),
        "429-retry-after-past-date": lambda: Failure(
            "rate_limited",
            rate_limited(_http_date(datetime.now(UTC) - timedelta(hours=1))),
            _RATE_LIMIT_DEFAULT,
        ),
    }


FAILURES = _failures()


def _check_retry_at(data: dict[str, object], failure: Failure, asked_at: datetime) -> None:
    error = data["error"]
    assert isinstance(error, dict)
    if failure.retry_in is None:
        assert error["retry_at"] is None
        return
    retry_at = parse_time(error["retry_at"])
    earliest, latest = failure.retry_in
    assert earliest <= retry_at - asked_at <= latest, (retry_at, asked_at)


def _without_data(tmp_path: Path, failure: Failure) -> None:
    with FakeUsageAPI() as fake:
        home = CliHome(tmp_path / "first", fake.url)
        home.write_credentials()
        if failure.reply is None:
            home.set_api_base(f"http://127.0.0.1:{closed_port()}")
        else:
            fake.script([failure.reply])
        asked_at = datetime.now(UTC)
        proc, data = home.status_json()

        assert proc.returncode == 1, proc.stdout
        assert_status_shape(data)
        assert error_kind(data) == failure.kind
        assert data["windows"] == []
        assert data["fetched_at"] is None
        assert data["stale"] is False
        message = data["error"]["message"]  # type: ignore[index]
        assert isinstance(message, str)
        assert message
        _check_retry_at(data, failure, asked_at)
        assert fake.request_count == (0 if failure.reply is None else 1)

        # Asking again at once is held back (backoff, rate limit or credentials gate) and
        # explains itself in words.
        text = home.run("status")
        assert text.returncode == 1
        assert "Problem: " in text.stdout
        assert "What to do:" in text.stdout
        assert fake.request_count == (0 if failure.reply is None else 1)
        home.assert_clean(proc, text)


def _with_data(tmp_path: Path, seeded: Seeded, failure: Failure) -> None:
    with FakeUsageAPI() as fake:
        home = seeded.home.clone(tmp_path / "second", fake.url)
        good = seeded.data
        if failure.reply is None:
            home.set_api_base(f"http://127.0.0.1:{closed_port()}")
        else:
            fake.script([failure.reply])

        asked_at = datetime.now(UTC)
        proc, data = home.status_json("--refresh")

        assert proc.returncode == 0, proc.stdout
        assert_status_shape(data)
        assert error_kind(data) == failure.kind
        assert data["stale"] is True
        assert percents(data) == FLAT
        assert data["fetched_at"] == good["fetched_at"]
        _check_retry_at(data, failure, asked_at)
        assert fake.request_count == (0 if failure.reply is None else 1)
        home.assert_clean(proc)


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_server_failure(tmp_path: Path, seeded: Seeded, name: str) -> None:
    failure = FAILURES[name]()
    in_parallel(
        lambda: _without_data(tmp_path, failure), lambda: _with_data(tmp_path, seeded, failure)
    )


@pytest.mark.parametrize(
    ("reply", "headline"),
    [
        (rate_limited("0"), "Problem: Rate limited by the usage service; next try "),
        (
            out_of_extra_usage(),
            "Problem: The usage service says: out of extra usage — but your plan is at 42 %",
        ),
        (html_error(503), "Problem: The usage service has a problem; next try "),
    ],
    ids=["rate-limited", "out-of-extra-usage", "outage"],
)
def test_stale_data_is_shown_with_the_reason(
    tmp_path: Path, seeded: Seeded, reply: Reply, headline: str
) -> None:
    with FakeUsageAPI([reply]) as fake:
        home = seeded.home.clone(tmp_path / "home", fake.url)
        refreshed = home.run("status", "--refresh")
        text = home.run("status")

    assert refreshed.returncode == 0
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].startswith("5-hour session: 42 %")
    assert any(line.startswith("Numbers from ") and " old) · " in line for line in lines)
    assert any(line.startswith(headline) for line in lines), text.stdout
    assert fake.request_count == 1
    home.assert_clean(refreshed, text)


# -- an API base we refuse -------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    ["http://example.com", "ftp://127.0.0.1/", "http://user:pw@127.0.0.1:{port}"],
    ids=["plain-http-elsewhere", "ftp", "userinfo"],
)
def test_refused_api_base_makes_no_connection(home: CliHome, fake: FakeUsageAPI, base: str) -> None:
    home.set_api_base(base.format(port=fake.port))
    # Were a connection tried, the proxy settings would bring it to the fake (and never outside).
    proxies = {name: fake.url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
    home.env.update(proxies)
    home.env.update({name.lower(): value for name, value in proxies.items()})
    home.env["NO_PROXY"] = home.env["no_proxy"] = ""

    proc, data = home.status_json()
    text = home.run("status", "--refresh")

    assert proc.returncode == 1
    assert error_kind(data) == "config"
    message = data["error"]["message"]  # type: ignore[index]
    assert isinstance(message, str)
    assert "refused" in message
    assert "https://" in message
    assert text.returncode == 1
    assert "The usage API address is refused" in text.stdout
    assert fake.request_count == 0
    home.assert_clean(proc, text)


def test_fixed_api_base_is_used_at_once(home: CliHome, fake: FakeUsageAPI) -> None:
    """A refused address is our own settings' fault: no request was made, so nothing may count
    against the server's schedule, and once the address is fixed the next status asks."""
    home.set_api_base("http://example.com")
    refused, data = home.status_json()
    assert refused.returncode == 1
    assert error_kind(data) == "config"

    home.set_api_base(fake.url)
    fixed, fresh = home.status_json()

    assert fake.request_count == 1
    assert fixed.returncode == 0, fixed.stdout
    assert fresh["error"] is None
    home.assert_clean(refused, fixed)


# -- the store serves everyone -----------------------------------------------------------------


def test_fresh_store_answers_without_a_request(home: CliHome, fake: FakeUsageAPI) -> None:
    first, data1 = home.status_json()
    assert fake.request_count == 1
    second, data2 = home.status_json()
    assert fake.request_count == 1
    assert data2["fetched_at"] == data1["fetched_at"]
    assert percents(data2) == FLAT

    fake.script([ok(60.0, 25.0)])
    third, data3 = home.status_json("--refresh")
    assert fake.request_count == 2
    assert percents(data3) == {"five_hour": 60.0, "seven_day": 25.0}

    # Manual refreshes are spaced 10 s apart, whoever asks: the second says why it sent nothing
    # (its numbers are seconds old, so still exit 0: what was asked for is shown).
    fourth, data4 = home.status_json("--refresh")
    assert fake.request_count == 2
    assert data4["fetched_at"] == data3["fetched_at"]
    assert re.fullmatch(
        r"No request was sent: the numbers are \d s old \(fresh: a refresh went out moments "
        r"ago\)\. The next one may go in (10|[1-9]) s\.\n",
        fourth.stderr,
    ), fourth.stderr
    assert first.stderr == third.stderr == ""
    for proc in (first, second, third, fourth):
        assert proc.returncode == 0
    home.assert_clean(first, second, third, fourth)


def test_rate_limit_holds_even_a_manual_refresh(home: CliHome, fake: FakeUsageAPI) -> None:
    fake.script([rate_limited("0")])
    first, data1 = home.status_json()
    assert first.returncode == 1
    assert error_kind(data1) == "rate_limited"
    assert fake.request_count == 1

    # No manual refresh happened before, so only the rate limit can hold these back.
    second, data2 = home.status_json("--refresh")
    third, data3 = home.status_json()
    assert fake.request_count == 1
    assert second.returncode == 3  # asked to refresh, sent nothing: its own exit status
    assert third.returncode == 1
    assert "No request was sent: the server asked us to wait" in second.stderr
    for data in (data2, data3):
        assert error_kind(data) == "rate_limited"
        assert data["error"]["retry_at"] == data1["error"]["retry_at"]  # type: ignore[index]
    home.assert_clean(first, second, third)


def test_a_refresh_held_by_a_rate_limit_says_so_and_until_when(
    tmp_path: Path, seeded: Seeded
) -> None:
    retry_at = datetime.now(UTC) + timedelta(minutes=40)
    with FakeUsageAPI([rate_limited(_http_date(retry_at))]) as fake:
        home = seeded.home.clone(tmp_path / "home", fake.url)
        limited = home.run("status", "--refresh")  # sent, and answered with a 429
        assert fake.request_count == 1
        berlin = {"TZ": "Europe/Berlin"}
        held = home.run("status", "--refresh", env=berlin)
        plain = home.run("status", env=berlin)
        _, data = home.status_json()
        assert fake.request_count == 1

    assert limited.returncode == 0
    assert limited.stderr == ""
    assert held.returncode == 3
    # Said on stderr, in local time with its zone: when the schedule lets the next one go.
    stored = parse_time(data["error"]["retry_at"])  # type: ignore[index]
    local = stored.astimezone(ZoneInfo("Europe/Berlin"))
    assert stored >= retry_at.replace(microsecond=0)
    assert held.stderr == (
        "No request was sent: the server asked us to wait (rate limited). "
        f"The next one may go at {local:%H:%M} {local.tzname()}.\n"
    )
    # The answer a script reads is still the status, on stdout; the zone is named once.
    assert "5-hour session: 42 %" in held.stdout
    assert held.stdout.splitlines()[-1] == f"Times are local ({local.tzname()})."
    # A plain `status` asked for no refresh: nothing was held back, nothing said on stderr.
    assert plain.returncode == 0
    assert plain.stderr == ""
    home.assert_clean(limited, held, plain)


def test_rate_limit_keeps_showing_stale_data(tmp_path: Path, seeded: Seeded) -> None:
    with FakeUsageAPI([rate_limited("0")]) as fake:
        home = seeded.home.clone(tmp_path / "home", fake.url)
        limited, _ = home.status_json("--refresh")
        assert limited.returncode == 0
        assert fake.request_count == 1

        results = [home.status_json(), home.status_json("--refresh")]

        assert fake.request_count == 1
    assert [proc.returncode for proc, _ in results] == [0, 3]
    for _, data in results:
        assert data["stale"] is True
        assert percents(data) == FLAT
        assert error_kind(data) == "rate_limited"
    home.assert_clean(limited, *(proc for proc, _ in results))


@pytest.mark.parametrize("new_token", [True, False], ids=["new-token", "same-token-rewritten"])
def test_unauthorized_waits_for_new_credentials(
    home: CliHome, fake: FakeUsageAPI, new_token: bool
) -> None:
    fake.script([unauthorized()], default=ok(12.0, 3.0))
    first, data = home.status_json()
    assert first.returncode == 1
    assert error_kind(data) == "unauthorized"
    assert fake.request_count == 1

    held = [home.status_json(), home.status_json("--refresh")]
    assert fake.request_count == 1
    for proc, again in held:
        assert proc.returncode == 1
        assert error_kind(again) == "unauthorized"
    assert held[1][0].stderr == (
        "No request was sent: the server refused this sign-in. "
        "The next one goes once you sign in again.\n"
    )

    # Claude Code signs in again (or refreshes): the very next status asks at once.
    home.write_credentials(SECOND_TOKEN if new_token else TOKEN)
    after, fresh = home.status_json()

    assert after.returncode == 0
    assert fresh["error"] is None
    assert percents(fresh) == {"five_hour": 12.0, "seven_day": 3.0}
    assert fake.request_count == 2
    expected = SECOND_TOKEN if new_token else TOKEN
    assert fake.requests[1].headers["authorization"] == f"Bearer {expected}"
    home.assert_clean(first, after, *(proc for proc, _ in held))


# -- the command line ----------------------------------------------------------------------


def test_autostart_help_says_what_each_action_does(home: CliHome) -> None:
    proc = home.run("autostart", "--help")

    assert proc.returncode == 0, proc.stderr
    described = {
        line.split()[0]
        for line in proc.stdout.splitlines()
        if line.startswith("    ") and len(line.split()) > 1
    }
    assert described == {"enable", "disable", "status"}, proc.stdout
    assert "{enable,disable,status}" not in proc.stdout


def test_wrong_command_line_exits_2(home: CliHome, fake: FakeUsageAPI) -> None:
    argvs = [
        ["status", "--bogus"],
        ["status", "--json", "surplus"],
        ["frobnicate"],
        ["credentials"],
        ["credentials", "wipe"],
        ["autostart", "sideways"],
        ["--no-such-flag"],
    ]
    results = home.run_many(argvs)

    for argv, proc in zip(argvs, results, strict=True):
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        assert "usage:" in proc.stderr, argv
    assert fake.request_count == 0
    assert not home.state_file.exists()
    home.assert_clean(*results)


def test_help_documents_the_exit_statuses(home: CliHome, fake: FakeUsageAPI) -> None:
    status, credentials = home.run_many([["status", "--help"], ["credentials", "--help"]])

    assert (status.returncode, credentials.returncode) == (0, 0)
    assert "  3  --refresh sent no request" in status.stdout
    assert "  1  no usage to show" in status.stdout
    assert "  0  done, or the list shown (an empty one too)" in credentials.stdout
    assert fake.request_count == 0


def test_the_zone_of_the_times_is_named_once_when_there_are_times(
    home: CliHome, fake: FakeUsageAPI
) -> None:
    fake.script([rate_limited("0")])
    kolkata = {"TZ": "Asia/Kolkata"}
    limited = home.run("status", env=kolkata)  # no numbers yet, but a time to try again
    home.remove_credentials()
    signed_out = home.run("status", env=kolkata)  # no numbers, no time: nothing to name

    assert limited.returncode == 1
    assert "next try " in limited.stdout
    assert limited.stdout.splitlines()[-1] == "Times are local (IST)."
    assert signed_out.returncode == 1
    assert "Times are local" not in signed_out.stdout
    home.assert_clean(limited, signed_out)
