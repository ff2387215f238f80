"""Hostile answer bodies: compression bombs, encodings we never asked for, error bodies nested
past the parser's depth. The real client against the fake API on 127.0.0.1.

Memory is measured with tracemalloc around the call: every byte the client decodes is a Python
bytes object, so the peak bounds what a bomb can make it hold. The bombs here inflate to
256 MiB; before the client read raw bytes itself, the peak was the whole inflated body.
"""

from __future__ import annotations

import json
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.sources.api import fetch_usage
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, usage_body
from claude_usage_gauge.testing.hostile import bomb, compress, encoded, nested

TOKEN = "sk-ant-oat01-HostileBodies" + "Qw7Er2Ty9Ui4Op1As6Df3Gh8Jk5Lz0Xc" * 2
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MEMORY_BOUND = 64 * 1024 * 1024
BOMB_BYTES = 256 * 1024 * 1024
STACKS = [("gzip",), ("gzip", "gzip"), ("deflate", "gzip"), ("gzip", "deflate")]


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as api:
        yield api


def call(fake: FakeUsageAPI, reply: Reply) -> tuple[UsageError | None, int]:
    """The error the client raised (None on success) and the peak of memory it allocated."""
    fake.script([reply])
    tracemalloc.start()
    try:
        fetch_usage(fake.url, TOKEN, NOW, timeout=10.0)
    except UsageError as error:
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return None, peak


# -- compression bombs ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS, ids=", ".join)
def test_a_bomb_is_refused_within_bounded_memory(fake: FakeUsageAPI, stack: tuple[str]) -> None:
    reply = bomb(BOMB_BYTES, stack)
    assert isinstance(reply.body, bytes)
    assert len(reply.body) < 300_000  # small on the wire: the danger is all in the inflating
    error, peak = call(fake, reply)
    assert error is not None
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert "too large" in error.message
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("status", [429, 401, 500])
def test_a_bomb_as_an_error_body_keeps_the_verdict(fake: FakeUsageAPI, status: int) -> None:
    reply = bomb(BOMB_BYTES, ("gzip", "gzip"), status=status, headers={"Retry-After": "600"})
    error, peak = call(fake, reply)
    assert error is not None
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.0f} MiB"
    want = {429: ErrorKind.RATE_LIMITED, 401: ErrorKind.UNAUTHORIZED, 500: ErrorKind.SERVER_ERROR}
    assert error.kind is want[status]
    if status == 429:
        assert error.retry_at == NOW + timedelta(seconds=600)


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, gzip, gzip"])
def test_an_encoding_we_did_not_ask_for_is_refused(fake: FakeUsageAPI, encoding: str) -> None:
    body = json.dumps(usage_body(now=NOW)).encode()
    if encoding.startswith("gzip"):
        body = compress(body, ["gzip"] * 3)
    reply = Reply(200, body, headers={"Content-Encoding": encoding})
    error, _ = call(fake, reply)
    assert error is not None
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert "could not be read" in error.message


@pytest.mark.parametrize("stack", STACKS, ids=", ".join)
def test_a_compressing_proxy_still_gives_the_numbers(fake: FakeUsageAPI, stack: list[str]) -> None:
    body = json.dumps(usage_body(63.0, 21.0, now=NOW)).encode()
    fake.script([encoded(200, body, stack)])
    usage = fetch_usage(fake.url, TOKEN, NOW)
    shown = [(w.id, w.percent) for w in usage.windows][:2]
    assert shown == [("five_hour", 63.0), ("seven_day", 21.0)]


def test_damaged_compressed_data_is_a_bad_answer(fake: FakeUsageAPI) -> None:
    body = compress(json.dumps(usage_body(now=NOW)).encode(), ["gzip"])
    for broken in (body[: len(body) // 2], body[:10] + b"\xff" * 40 + body[50:]):
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        error, _ = call(fake, Reply(200, broken, headers=headers))
        assert error is not None
        assert error.kind is ErrorKind.BAD_RESPONSE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=3000).map(lambda b: b * 50),
    stack=st.lists(st.sampled_from(["gzip", "x-gzip", "deflate", "identity"]), max_size=2),
    cuts=st.lists(st.integers(min_value=1, max_value=97), max_size=6),
)
def test_decoding_in_small_steps_gives_back_every_byte(
    data: bytes, stack: list[str], cuts: list[int]
) -> None:
    """Whatever the encodings and however the wire splits them: every byte, in pieces no
    longer than a step, and the cap holds."""
    from claude_usage_gauge.sources import api_body

    wire = compress(data, [s for s in stack if s != "identity"])
    chunks, at = [], 0
    for cut in cuts:
        chunks.append(wire[at : at + cut])
        at += cut
    chunks.append(wire[at:])
    pieces = list(api_body.decoded(chunks, ", ".join(stack)))
    assert b"".join(pieces) == data
    if any(s != "identity" for s in stack):
        assert all(len(p) <= api_body.STEP for p in pieces)
    limit = len(data) // 2
    head, more = api_body.read_capped(chunks, ", ".join(stack), limit)
    assert head == data[:limit]
    assert more == (len(data) > limit)


def test_raw_deflate_is_read_too() -> None:
    """Some servers send "deflate" without the zlib wrapper."""
    from claude_usage_gauge.sources import api_body

    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    wire = packer.compress(b"hello " * 1000) + packer.flush()
    assert b"".join(api_body.decoded([wire], "deflate")) == b"hello " * 1000


# -- error bodies nested past the parser's depth -------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, ErrorKind.RATE_LIMITED),
        (401, ErrorKind.UNAUTHORIZED),
        (403, ErrorKind.UNAUTHORIZED),
        (400, ErrorKind.SERVER_ERROR),
        (503, ErrorKind.SERVER_ERROR),
    ],
)
def test_a_nested_error_body_loses_only_its_message(
    fake: FakeUsageAPI, status: int, kind: ErrorKind
) -> None:
    error, _ = call(fake, nested(status, 60_000, headers={"Retry-After": "600"}))
    assert error is not None
    assert error.kind is kind, error.problem
    assert error.problem.detail == f"HTTP {status}"
    if status == 429:
        assert error.retry_at == NOW + timedelta(seconds=600)


@settings(max_examples=25, deadline=None)
@given(
    depth=st.integers(min_value=1, max_value=40_000),
    status=st.sampled_from([401, 429]),
    opener=st.sampled_from([b"[", b'{"a":']),
)
def test_any_nesting_keeps_the_status_verdict(depth: int, status: int, opener: bytes) -> None:
    closer = b"]" if opener == b"[" else b"}"
    body = b'{"error": {"message": ' + opener * depth + b"1" + closer * depth + b"}}"
    reply = Reply(status, body, headers={"Retry-After": "600"})
    with FakeUsageAPI(default=reply) as fake, pytest.raises(UsageError) as caught:
        fetch_usage(fake.url, TOKEN, NOW)
    want = ErrorKind.RATE_LIMITED if status == 429 else ErrorKind.UNAUTHORIZED
    assert caught.value.kind is want
    if status == 429:
        assert caught.value.retry_at == NOW + timedelta(seconds=600)
