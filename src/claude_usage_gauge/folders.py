"""Is a folder ours alone? Checked before anything of ours (a moved sign-in above all) goes in.

A folder of ours that already exists but belongs to someone else (made by `sudo` without `-H`,
or planted by another user) would let them read or remove what we put there, and what they put
there would reach our output. So, walking up from the folder (symlinks resolved), the owners
must read "us, then root": our folders inside root's (the home inside /home), never a folder of
root's or of another user inside ours, nor ours inside another user's. And no folder on the way
may be writable by every user unless it has the sticky bit (/tmp).

Our own folder may be wider than 0700 (an old version, a umask): `ensure_private_dir` narrows
it, and files found in it are read only when they are ours. Group-writable folders above ours
are allowed (some systems give every user a private group). Only POSIX systems are checked.

On the statusline's fast path: `os` only at the top (`pwd` and `shlex` when there is a problem).
"""

from __future__ import annotations

import os
import stat
import sys


def _name(uid: int) -> str:
    if sys.platform == "win32":
        return f"uid {uid}"
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _quote(path: str) -> str:
    import shlex

    return shlex.quote(path)


def _chain(folder: str) -> list[tuple[str, os.stat_result]] | None:
    chain: list[tuple[str, os.stat_result]] = []
    current = folder
    while True:
        try:
            chain.append((current, os.stat(current)))
        except OSError:
            return None
        parent = os.path.dirname(current)
        if parent == current:
            return chain
        current = parent


def unsafe_folder(path: str | os.PathLike[str], *, ours: bool = True) -> str | None:
    """Why the existing folder `path` is not ours alone, as a sentence naming the folder to fix
    and how; None when it is ours alone (or cannot be looked at, or this is not POSIX).

    `ours=False` judges a folder we are about to make ours inside (it may be root's, as /tmp).
    """
    if sys.platform == "win32":
        return None
    folder = os.path.realpath(os.fspath(path))
    chain = _chain(folder)
    if chain is None:
        return None
    me = os.geteuid()
    for current, info in chain:
        if ours and current == folder and info.st_uid == me:
            continue  # our own folder: its mode is ours to narrow (ensure_private_dir does)
        if info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
            return (
                f"The folder {current} can be changed by any user, so claude-usage-gauge keeps "
                f"nothing in {folder}. Fix: chmod o-w {_quote(current)}"
            )
    mine = [i for i, (_, info) in enumerate(chain) if info.st_uid == me]
    if not mine and ours:
        return _not_ours(folder, chain[0][1].st_uid, me, folder)
    top = mine[-1] if mine else -1
    # Below our topmost folder everything must be ours: name the topmost one that is not, so
    # one `chown -R` of it mends the whole way down.
    for current, info in reversed(chain[: max(top, 0)]):
        if info.st_uid != me:
            return _not_ours(current, info.st_uid, me, folder)
    # Above it, only root's.
    for current, info in chain[top + 1 :]:
        if info.st_uid not in (0, me):
            return _not_ours(current, info.st_uid, me, folder)
    return None


def unsafe_place(path: str | os.PathLike[str]) -> str | None:
    """Like `unsafe_folder`, for a folder that may not exist yet: then the nearest existing
    folder on the way is judged as the place it would be made in."""
    current = os.path.abspath(os.fspath(path))
    while not os.path.isdir(current):
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    return unsafe_folder(current, ours=current == os.path.abspath(os.fspath(path)))


def _not_ours(culprit: str, uid: int, me: int, folder: str) -> str:
    holds = "" if culprit == folder else f" (on the way to {folder})"
    if me == 0:
        return (
            f"The folder {culprit}{holds} belongs to {_name(uid)}; run as root, "
            "claude-usage-gauge keeps nothing in another user's folders. Run it as "
            f"{_name(uid)} (or with sudo -H, for root's own home); if the folder should be "
            f"root's: chown -R root {_quote(culprit)}"
        )
    made_by = " (a command run with sudo made it?)" if uid == 0 else ""
    return (
        f"The folder {culprit}{holds} belongs to {_name(uid)}, not to you ({_name(me)}){made_by}, "
        f"so claude-usage-gauge keeps nothing there. Fix: sudo chown -R {_name(me)} "
        f"{_quote(culprit)}"
    )
