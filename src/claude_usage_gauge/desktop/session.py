"""One run of the tray: which accounts and settings (real, or the demo's throw-away home with
the built-in fake usage service), and the lock that keeps it to one tray per user."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.config import load_settings
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.files import ensure_private_dir
from claude_usage_gauge.paths import AppPaths, app_paths
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.keychain import SecretStore, default_secret_store

if TYPE_CHECKING:
    from claude_usage_gauge.accounts import Account

log = logging.getLogger(__name__)

DEMO_POLL_SECONDS = 4.0


@dataclass
class Session:
    """Everything one run of the tray needs, real or demo."""

    paths: AppPaths
    settings: Settings
    home: ClaudeHome
    secret_store: SecretStore | None
    demo: bool = False
    # Every account watched, the primary (whose `home` is above) first; empty: just `home`.
    accounts: tuple[Account, ...] = ()


@contextlib.contextmanager
def single_instance(paths: AppPaths) -> Iterator[bool]:
    """True while this process is the only tray of this user; the OS frees the lock on exit.

    A state folder we may not use (another user's, or one a root run left behind) does not stop
    the tray: it runs without the lock, keeps its state in memory, and says why once."""
    import filelock

    lock = filelock.FileLock(os.fspath(paths.instance_lock), timeout=0, mode=0o600)
    try:
        ensure_private_dir(paths.state_dir)
        lock.acquire()
    except filelock.Timeout:
        yield False
        return
    except OSError as exc:
        log.warning("running without the single-instance lock: %s", exc.strerror or exc)
        yield True
        return
    try:
        yield True
    finally:
        lock.release()


@contextlib.contextmanager
def demo_session() -> Iterator[Session]:
    """A throw-away home: fake credentials, a private store, and the built-in fake usage API."""
    from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file
    from claude_usage_gauge.testing.fake_api import FakeUsageAPI, demo_responder

    with tempfile.TemporaryDirectory(prefix=f"{APP_NAME}-demo-") as tmp:
        root = Path(tmp)
        # Not a real token: the demo only talks to its own loopback fake.
        document = credentials_document(
            "demo-access-token",
            refresh_token="demo-refresh-token",  # noqa: S106
        )
        claude_dir = write_credentials_file(root / "claude", document).parent
        paths = AppPaths(
            state_dir=root / "state",
            data_dir=root / "data",
            log_dir=root / "log",
            config_dir=root / "config",
        )
        with FakeUsageAPI(responder=demo_responder) as api:
            settings = replace(Settings(), api_base=api.url, poll_interval=DEMO_POLL_SECONDS)
            yield Session(paths, settings, ClaudeHome.at(claude_dir), None, demo=True)


def real_session() -> Session:
    paths = app_paths()
    settings = load_settings(paths.config_file)
    for problem in settings.problems:
        log.warning("settings: %s", problem)
    from claude_usage_gauge.accounts import resolve_accounts

    # The primary's folders are `paths` themselves: one account runs exactly as before.
    accounts = resolve_accounts(paths, settings)
    return Session(paths, settings, accounts[0].home, default_secret_store(), accounts=accounts)
