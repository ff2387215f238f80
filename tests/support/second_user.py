"""Running the real command as a second, unprivileged user (needs root; CI runs as root).

The second user is `nobody`. Its home is a fresh folder under /tmp that it owns; the command runs
with an interpreter it can execute (the test interpreter, or the system's of the same version)
and the project's source and dependencies on PYTHONPATH.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import claude_usage_gauge
from tests.support.cli_home import CLI_TIMEOUT, CliHome

SECOND_UID = 65534
SECOND_GID = 65534

needs_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0,
    reason="needs root: gives folders to, and runs commands as, a second user (CI runs as root)",
)


def _pythonpath() -> str:
    source = Path(claude_usage_gauge.__file__).resolve().parents[1]
    return os.pathsep.join([str(source), sysconfig.get_paths()["purelib"]])


@functools.cache
def second_user_python() -> str | None:
    """An interpreter the second user can run, of this one's version; None if there is none."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, os.path.realpath(sys.executable), f"/usr/bin/{version}"):
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2])"],
                user=SECOND_UID,
                group=SECOND_GID,
                extra_groups=[],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": _pythonpath()},
            )
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip() == str(tuple(sys.version_info[:2])):
            return candidate
    return None


@contextmanager
def second_user_home(api_base: str) -> Iterator[CliHome]:
    """A CliHome under /tmp owned by the second user (removed afterwards)."""
    python = second_user_python()
    if python is None:
        pytest.skip("no interpreter of this version that the second user may run")
    root = Path(tempfile.mkdtemp(prefix="cug-second-user-", dir="/tmp"))
    try:
        home = CliHome(root / "home", api_base)
        home.env["PYTHONPATH"] = _pythonpath()
        home.env["USER"] = "nobody"
        yield home
    finally:
        shutil.rmtree(root, ignore_errors=True)


def chown_tree(path: Path, uid: int = SECOND_UID, gid: int = SECOND_GID) -> None:
    for folder, dirs, files in os.walk(path):
        os.chown(folder, uid, gid, follow_symlinks=False)
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
    os.chown(path.parent, uid, gid)


def run_as_second_user(home: CliHome, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m claude_usage_gauge *args` as the second user, in its home."""
    python = second_user_python()
    assert python is not None
    return subprocess.run(
        [python, "-m", "claude_usage_gauge", *args],
        input="",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=home.env,
        cwd=home.root,
        user=SECOND_UID,
        group=SECOND_GID,
        extra_groups=[],
        timeout=CLI_TIMEOUT,
        check=False,
    )


def owners(root: Path) -> set[int]:
    """Every owner of anything under `root` (itself included)."""
    found = {root.lstat().st_uid}
    for path in root.rglob("*"):
        found.add(path.lstat().st_uid)
    return found
