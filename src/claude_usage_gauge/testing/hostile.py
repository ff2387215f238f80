"""Hostile answers for the fake usage API: compression bombs, bodies nested past any parser's
depth, reason phrases that quote the token. Each is a plain `Reply`, made small and cached.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping, Sequence

from claude_usage_gauge.testing.fake_api import Reply

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_CHUNK = 1024 * 1024


def compress(data: bytes, encodings: Sequence[str]) -> bytes:
    """`data` with each encoding applied in order (as a `Content-Encoding` list is written)."""
    for name in encodings:
        packer = zlib.compressobj(9, zlib.DEFLATED, _WBITS[name])
        data = packer.compress(data) + packer.flush()
    return data


def encoded(
    status: int, body: bytes, encodings: Sequence[str], headers: Mapping[str, str] | None = None
) -> Reply:
    """`body` sent compressed with `encodings` and a matching `Content-Encoding` header."""
    return Reply(
        status,
        compress(body, encodings),
        headers={
            "Content-Type": "application/json",
            "Content-Encoding": ", ".join(encodings),
            **(headers or {}),
        },
    )


@functools.lru_cache(maxsize=8)
def _zeros_bomb(decoded_bytes: int, encodings: tuple[str, ...]) -> bytes:
    """`decoded_bytes` zero bytes, compressed `encodings`, built without holding them whole."""
    first, rest = encodings[0], encodings[1:]
    packer = zlib.compressobj(9, zlib.DEFLATED, _WBITS[first])
    block = bytes(_CHUNK)
    parts: list[bytes] = []
    left = decoded_bytes
    while left > 0:
        parts.append(packer.compress(block[: min(left, _CHUNK)]))
        left -= _CHUNK
    parts.append(packer.flush())
    return compress(b"".join(parts), rest)


def bomb(
    decoded_bytes: int = 1 << 30,
    encodings: Sequence[str] = ("gzip", "gzip"),
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """A few hundred bytes on the wire that inflate to `decoded_bytes` of zeros."""
    data = _zeros_bomb(decoded_bytes, tuple(encodings))
    return Reply(
        status,
        data,
        headers={
            "Content-Type": "application/json",
            "Content-Encoding": ", ".join(encodings),
            **(headers or {}),
        },
    )


def nested(status: int, depth: int = 60_000, headers: Mapping[str, str] | None = None) -> Reply:
    """An error body in the service's shape whose message sits `depth` arrays deep."""
    body = b'{"error": {"type": "x", "message": ' + b"[" * depth + b"]" * depth + b"}}"
    return Reply(status, body, headers={"Content-Type": "application/json", **(headers or {})})


def reason_echo(status: int, text: str) -> Reply:
    """An error whose status line's reason phrase carries `text` (a proxy echoing a header)."""
    return Reply(status, b"", reason=text)
