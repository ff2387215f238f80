"""The fake usage API itself: a real server on 127.0.0.1, spoken to with a raw HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claude_usage_gauge.core.usage_parser import parse_usage
from claude_usage_gauge.testing.fake_api import (
    DEMO_CYCLE,
    USAGE_PATH,
    FakeUsageAPI,
    Reply,
    demo_replies,
    demo_reply,
    demo_responder,
    html_error,
    rate_limited,
    redirect,
    usage_body,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as api:
        yield api


def get(
    fake: FakeUsageAPI,
    path: str = USAGE_PATH,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


# -- serving ------------------------------------------------------------------------------------


def test_default_reply_is_a_healthy_usage_body(fake: FakeUsageAPI) -> None:
    assert fake.url == f"http://127.0.0.1:{fake.port}"
    status, headers, body = get(fake)
    assert status == 200
    assert headers["content-type"] == "application/json"
    usage = parse_usage(json.loads(body), NOW)
    five_hour = usage.window("five_hour")
    assert five_hour is not None
    assert five_hour.percent == 42.0


def test_script_runs_in_order_then_default_answers_every_request(fake: FakeUsageAPI) -> None:
    fake.script(
        [Reply(201, {"n": 1}), Reply(202, "two")],
        default=Reply(299, b"default"),
    )
    answers = [get(fake) for _ in range(4)]
    assert [a[0] for a in answers] == [201, 202, 299, 299]
    assert json.loads(answers[0][2]) == {"n": 1}
    assert answers[1][2] == b"two"
    assert answers[1][1]["content-type"].startswith("text/plain")
    assert answers[3][2] == b"default"


def test_script_replaces_the_queue_and_keeps_the_default(fake: FakeUsageAPI) -> None:
    fake.script([Reply(500), Reply(501)], default=Reply(204))
    fake.script([Reply(418)])
    assert [get(fake)[0] for _ in range(2)] == [418, 204]


def test_push_appends_to_the_queue() -> None:
    with FakeUsageAPI([Reply(201)], default=Reply(203)) as api:
        api.push(Reply(202), Reply(205))
        assert [get(api)[0] for _ in range(4)] == [201, 202, 205, 203]


def test_reply_headers_override_defaults(fake: FakeUsageAPI) -> None:
    fake.push(Reply(200, "<p>x</p>", headers={"content-type": "text/html", "X-Extra": "1"}))
    _, headers, _ = get(fake)
    assert headers["content-type"] == "text/html"
    assert headers["x-extra"] == "1"


def test_other_paths_answer_404_json_without_using_the_script(fake: FakeUsageAPI) -> None:
    fake.script([Reply(503)])
    status, headers, body = get(fake, "/elsewhere")
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["type"] == "not_found_error"
    # The scripted reply is still there for the endpoint.
    assert get(fake)[0] == 503


def test_only_get_is_the_endpoint(fake: FakeUsageAPI) -> None:
    assert get(fake, method="POST")[0] == 405


def test_requests_are_recorded_with_lower_cased_headers(fake: FakeUsageAPI) -> None:
    get(fake, headers={"Authorization": "Bearer test-token", "X-Thing": "Value"})
    get(fake, "/other?x=1")
    assert fake.request_count == 2
    first, second = fake.requests
    assert (first.method, first.path) == ("GET", USAGE_PATH)
    assert first.headers["authorization"] == "Bearer test-token"
    assert first.headers["x-thing"] == "Value"
    assert second.path == "/other?x=1"
    assert second.at >= first.at
    # The recorded bearer token stays out of reprs.
    assert "test-token" not in repr(first)
    # `requests` is a copy.
    fake.requests.clear()
    assert fake.request_count == 2


def test_wait_for_requests(fake: FakeUsageAPI) -> None:
    assert fake.wait_for_requests(0, timeout=0)
    assert not fake.wait_for_requests(1, timeout=0.05)
    get(fake)
    assert fake.wait_for_requests(1, timeout=5)


def test_drop_closes_without_any_answer(fake: FakeUsageAPI) -> None:
    fake.push(Reply(drop=True))
    with pytest.raises(http.client.RemoteDisconnected):
        get(fake)
    assert fake.request_count == 1


def test_truncate_sends_the_full_length_and_half_the_body(fake: FakeUsageAPI) -> None:
    fake.push(Reply(200, b"0123456789", truncate=True))
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        conn.request("GET", USAGE_PATH)
        response = conn.getresponse()
        assert response.getheader("Content-Length") == "10"
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
        assert caught.value.partial == b"01234"
    finally:
        conn.close()


def test_delay_holds_the_answer_back(fake: FakeUsageAPI) -> None:
    fake.push(Reply(200, b"late", delay=30.0))
    with pytest.raises(TimeoutError):
        get(fake, timeout=0.3)
    # Stopping does not wait for the delayed answer.
    fake.stop()


def test_trickle_sends_the_body_in_pieces(fake: FakeUsageAPI) -> None:
    fake.push(Reply(200, b"abcd", trickle=0.2))
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        conn.request("GET", USAGE_PATH)
        response = conn.getresponse()
        first = response.read1(100)
        rest = response.read()
    finally:
        conn.close()
    assert 0 < len(first) < 4
    assert first + rest == b"abcd"


def test_chunked_reply_is_sent_as_framed(fake: FakeUsageAPI) -> None:
    fake.push(Reply(200, b"3\r\nabc\r\n0\r\n\r\n", headers={"Transfer-Encoding": "chunked"}))
    status, headers, body = get(fake)
    assert (status, body) == (200, b"abc")
    assert "content-length" not in headers


def test_start_and_stop_are_idempotent_and_free_the_port() -> None:
    api = FakeUsageAPI().start()
    assert api.start() is api
    port = api.port
    api.stop()
    api.stop()
    with pytest.raises(RuntimeError):
        _ = api.url
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


# -- ready-made bodies and replies --------------------------------------------------------------


def test_usage_body_shapes() -> None:
    flat = usage_body(10, None, now=NOW, resets_in_hours=1)
    assert flat["five_hour"] == {"utilization": 10, "resets_at": "2026-03-01T13:00:00.000000+00:00"}
    assert flat["seven_day"] is None
    assert "limits" not in flat

    rich = usage_body(95, 50, now=NOW, limits=True, spend={"x": 1}, extra={"is_enabled": True})
    limits = rich["limits"]
    assert isinstance(limits, list)
    assert [(e["kind"], e["severity"]) for e in limits] == [
        ("session", "critical"),
        ("weekly_all", "normal"),
    ]
    assert rich["spend"] == {"x": 1}
    assert rich["extra_usage"] == {"is_enabled": True}


def test_error_helpers() -> None:
    assert rate_limited().headers == {"Retry-After": "0"}
    assert rate_limited(None).headers == {}
    assert rate_limited("120").status == 429
    page = html_error(503)
    assert page.status == 503
    assert isinstance(page.body, str)
    assert "<title>503 Service Unavailable</title>" in page.body
    assert redirect("http://127.0.0.1:1/x").headers == {"Location": "http://127.0.0.1:1/x"}


# -- the demo scenario --------------------------------------------------------------------------


def _percent(reply: Reply, window_id: str) -> float:
    usage = parse_usage(reply.body, NOW)
    window = usage.window(window_id)
    assert window is not None
    return window.percent


def test_demo_is_deterministic_and_tells_a_day() -> None:
    replies = [demo_reply(n, NOW) for n in range(DEMO_CYCLE)]
    assert replies == [demo_reply(n, NOW) for n in range(DEMO_CYCLE)]

    statuses = [r.status for r in replies]
    first_429 = statuses.index(429)
    storm = statuses[first_429:]
    storm_len = storm.index(200)
    assert 2 <= storm_len <= 6
    assert all(s == 200 for s in storm[storm_len:])

    rising = [_percent(r, "five_hour") for r in replies[:first_429]]
    assert rising[0] == 5.0
    assert rising == sorted(rising)
    assert 95 <= rising[-1] < 100

    after = [_percent(r, "five_hour") for r in replies[first_429 + storm_len :]]
    assert after[0] >= 95  # recovery shows the high reading again
    assert after[-1] < 10  # then the session window has reset
    # The next cycle starts over.
    assert _percent(demo_reply(DEMO_CYCLE, NOW), "five_hour") == 5.0


def test_demo_as_a_script_and_as_a_responder() -> None:
    script = demo_replies(2, NOW)
    assert len(script) == 2 * DEMO_CYCLE
    assert script[DEMO_CYCLE + 3] == demo_reply(DEMO_CYCLE + 3, NOW)
    assert [r.status for r in script[:DEMO_CYCLE]] == [
        demo_responder(n).status for n in range(DEMO_CYCLE)
    ]
    with FakeUsageAPI(responder=demo_responder) as api:
        assert [get(api)[0] for _ in range(DEMO_CYCLE)] == [r.status for r in script[:DEMO_CYCLE]]
        api.push(Reply(299))
        assert get(api)[0] == 299  # the queue comes before the responder


def test_demo_reset_times_are_in_the_future_of_now() -> None:
    for n in range(DEMO_CYCLE):
        reply = demo_reply(n, NOW)
        if reply.status != 200:
            continue
        usage = parse_usage(reply.body, NOW)
        assert all(w.resets_at is not None and w.resets_at > NOW for w in usage.windows)


# -- the command line ---------------------------------------------------------------------------


def _run_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_usage_gauge.testing.fake_api", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    return proc, line


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    return proc.returncode, err


def _http_status(url: str) -> int:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", USAGE_PATH)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a hard kill on Windows")
@pytest.mark.parametrize(("scenario", "expected"), [(None, 200), ("rate-limited", 429)])
def test_cli_prints_url_serves_and_stops_on_sigterm(scenario: str | None, expected: int) -> None:
    proc, line = _run_cli(*(["--scenario", scenario] if scenario else []))
    try:
        assert line.startswith("URL http://127.0.0.1:")
        url = line.removeprefix("URL ")
        assert [_http_status(url) for _ in range(2)] == [expected, expected]
    finally:
        code, err = _stop(proc)
    assert code == 0
    assert "Traceback" not in err
    assert "RuntimeWarning" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a hard kill on Windows")
def test_cli_demo_scenario_follows_demo_reply() -> None:
    proc, line = _run_cli("--scenario", "demo")
    try:
        url = line.removeprefix("URL ")
        statuses = [_http_status(url) for _ in range(DEMO_CYCLE)]
    finally:
        code, _ = _stop(proc)
    assert statuses == [demo_reply(n, NOW).status for n in range(DEMO_CYCLE)]
    assert code == 0
