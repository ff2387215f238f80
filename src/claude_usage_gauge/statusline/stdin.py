"""Reading Claude Code's JSON from stdin without ever hanging its status line.

Claude Code writes one object and closes the pipe; a pipe that nobody closes, a terminal or no
stdin at all must each give up quickly with nothing, never block.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

STDIN_LIMIT = 1024 * 1024
# Claude Code closes stdin right after writing; this only guards against a pipe nobody closes.
STDIN_WAIT_SECONDS = 3.0


def read_stdin(stdin: IO[bytes] | None, limit: int = STDIN_LIMIT) -> bytes:
    """At most `limit` + 1 bytes (one more says "too large"); empty for a terminal or no stdin."""
    if stdin is not None:
        return stdin.read(limit + 1) or b""
    fd = 0
    try:
        if os.isatty(fd):
            return b""
    except OSError:
        return b""
    if os.name == "posix":
        return _read_fd_waiting(fd, limit, STDIN_WAIT_SECONDS)
    return _read_fd_in_thread(fd, limit, STDIN_WAIT_SECONDS)


def _read_fd_waiting(fd: int, limit: int, wait: float) -> bytes:
    """Read to end of file with `select`, giving up (empty) after `wait` seconds in all."""
    import select

    deadline = time.monotonic() + wait
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return b""  # a pipe nobody closes: what came so far is not a whole object
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, ValueError):
        return b""
    return b"".join(chunks)


def _read_fd_in_thread(fd: int, limit: int, wait: float) -> bytes:
    """Windows cannot `select` a pipe: a daemon thread reads, and we wait for it at most `wait`."""
    import threading

    chunks: list[bytes] = []
    done = threading.Event()

    def reader() -> None:
        # os.read, not sys.stdin.buffer: a daemon thread left blocked in a buffered read holds a
        # lock that interpreter shutdown may need.
        size = 0
        try:
            while size <= limit:
                chunk = os.read(fd, min(65536, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError:
            pass
        done.set()

    threading.Thread(target=reader, name="statusline-stdin", daemon=True).start()
    if not done.wait(wait):
        return b""
    return b"".join(chunks)
