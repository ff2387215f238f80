"""An answer's body, read from the wire and decoded by us, with a hard cap on decoded bytes.

httpx decodes any `Content-Encoding` a server sends, whatever we asked for, and inflates a whole
network chunk at a time: a few hundred bytes of stacked gzip become a gigabyte before any cap
can count them. So the body is read raw (`iter_raw`) and inflated here in steps of at most
`STEP` bytes per layer, each step counted against the cap before the next is made. Memory stays
within a few steps per layer whatever the body holds.

Only gzip and deflate are inflated (a proxy may compress although we asked for identity), at
most `MAX_LAYERS` deep; anything else is refused rather than guessed at.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator

STEP = 64 * 1024
MAX_LAYERS = 2
_GZIP = 16 + zlib.MAX_WBITS
_NAMES = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "identity": ""}


class BodyRefused(Exception):
    """The body is compressed in a way we do not read, or its compressed data is damaged."""


class _Layer:
    """One `Content-Encoding` step, undone in bounded pieces."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._started = False
        self._inflate = zlib.decompressobj(_GZIP if name == "gzip" else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of `data`, none longer than STEP bytes."""
        while True:
            try:
                out = self._inflate.decompress(data, STEP)
            except zlib.error:
                if self.name == "deflate" and not self._started:
                    # Servers disagree on what "deflate" means: zlib-wrapped or raw. Try raw once.
                    self._started = True
                    self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise BodyRefused(f"damaged {self.name} data") from None
            self._started = True
            data = self._inflate.unconsumed_tail
            if out:
                yield out
            # Output shorter than a full step means zlib holds nothing more for this input.
            if self._inflate.eof or (not data and len(out) < STEP):
                return

    def finish(self) -> bytes:
        if not self._inflate.eof:
            raise BodyRefused(f"{self.name} data cut off")
        # After the end of the stream nothing is pending; this only returns what zlib buffered.
        return self._inflate.flush()


def layers_for(content_encoding: str | None) -> list[_Layer]:
    """The decoding steps for a `Content-Encoding` header, outermost last (as it is written)."""
    names = [part.strip().lower() for part in (content_encoding or "").split(",")]
    layers: list[_Layer] = []
    for name in names:
        if not name:
            continue
        kind = _NAMES.get(name)
        if kind is None:
            raise BodyRefused(f"compressed as {name[:20]!r}, which we did not ask for")
        if kind:
            layers.append(_Layer(kind))
    if len(layers) > MAX_LAYERS:
        raise BodyRefused(f"compressed {len(layers)} times over")
    return layers


def _through(layers: list[_Layer], index: int, data: bytes) -> Iterator[bytes]:
    """`data` decoded from layer `index` on (the last applied encoding is undone first)."""
    if index < 0:
        yield data
        return
    for piece in layers[index].feed(data):
        yield from _through(layers, index - 1, piece)


def _finished(layers: list[_Layer], index: int) -> Iterator[bytes]:
    if index < 0:
        return
    tail = layers[index].finish()
    if tail:
        yield from _through(layers, index - 1, tail)
    yield from _finished(layers, index - 1)


def decoded(raw: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """The body's decoded bytes, piece by piece (none longer than STEP once decoding starts)."""
    layers = layers_for(content_encoding)
    for chunk in raw:
        yield from _through(layers, len(layers) - 1, chunk)
    yield from _finished(layers, len(layers) - 1)


def read_capped(
    raw: Iterable[bytes],
    content_encoding: str | None,
    limit: int,
    check: Callable[[], None] = lambda: None,
) -> tuple[bytes, bool]:
    """Up to `limit` decoded bytes; the flag says there was more. `check` runs after each piece
    (it raises when the deadline has passed). Raises `BodyRefused`."""
    pieces: list[bytes] = []
    size = 0
    for piece in decoded(raw, content_encoding):
        pieces.append(piece[: limit + 1 - size])
        size += len(pieces[-1])
        if size > limit:
            return b"".join(pieces)[:limit], True
        check()
    return b"".join(pieces), False
