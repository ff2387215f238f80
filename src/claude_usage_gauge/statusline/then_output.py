"""The user's own statusline command (`--then`): its output, read with a cap and a deadline.

`Popen.communicate` reads everything a command prints, so a command that prints 10 MB (or never
stops) would have it all handed to Claude Code. Here stdin is fed and stdout drained by two
threads; past `limit` bytes, or past the deadline, the command is stopped and its output
dropped, as oversized stdin is: Claude Code's status line then shows ours alone.
"""

from __future__ import annotations

import os
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable


def read_capped(
    process: subprocess.Popen[bytes],
    data: bytes,
    *,
    timeout: float,
    limit: int,
    stop: Callable[[subprocess.Popen[bytes]], None],
) -> bytes | None:
    """What `process` printed (given `data` on stdin), or None when it printed more than
    `limit` bytes or did not finish within `timeout` seconds (it is then stopped with `stop`)."""
    chunks: list[bytes] = []
    over = threading.Event()

    def feed() -> None:
        stdin = process.stdin
        if stdin is None:
            return
        try:
            stdin.write(data)
            stdin.close()
        except (OSError, ValueError):  # it exited without reading: its output still counts
            pass

    def drain() -> None:
        stdout = process.stdout
        if stdout is None:
            return
        size = 0
        try:
            # os.read: whatever has arrived, never waiting to fill a buffer.
            while chunk := os.read(stdout.fileno(), 65536):
                size += len(chunk)
                if size > limit:
                    over.set()
                    return
                chunks.append(chunk)
        except (OSError, ValueError):
            pass

    threads = [threading.Thread(target=t, daemon=True) for t in (feed, drain)]
    for thread in threads:
        thread.start()
    threads[1].join(timeout)
    if over.is_set() or threads[1].is_alive():
        stop(process)
        return None
    try:
        process.wait(timeout=1.0)
    except Exception:  # a command that closed stdout but lingers: its output stands
        stop(process)
    return b"".join(chunks)
