"""Wires the tray: poller + refresher + store, the menu's actions, what it notifies."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.config import load_settings, save_setting
from claude_usage_gauge.core.errors import UsageError
from claude_usage_gauge.core.guidance import USAGE_PAGE
from claude_usage_gauge.core.menu import KEEP_ACTION, MenuContext
from claude_usage_gauge.desktop.session import Session, demo_session, real_session, single_instance
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.refresh import Refresher
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.keychain import (
    CachingSecretStore,
)
from claude_usage_gauge.store import Store

if TYPE_CHECKING:
    from claude_usage_gauge.desktop.tray import Tray
    from claude_usage_gauge.desktop.tray_backend import BackendInfo
    from claude_usage_gauge.poller import Poller


class _Moved(Protocol):
    @property
    def menu_steps(self) -> str: ...


log = logging.getLogger(__name__)

# After a reset from the menu, the missing sign-in it causes is the user's choice (its
# confirmation says to sign in again): no alarm about it if it shows within this time.
CHOSEN_SIGN_OUT = timedelta(minutes=1)


def run_tray(*, demo: bool = False) -> int:
    from claude_usage_gauge.desktop.tray_backend import probe_backend

    backend = probe_backend()
    log.info("tray backend: %s (%s)", backend.name, backend.reason)
    if backend.name == "none":
        print(f"{APP_NAME}: cannot show a tray icon. {backend.advice}", file=sys.stderr)
        print("Try 'claude-usage-gauge status' in a terminal instead.", file=sys.stderr)
        return 1
    if not backend.has_menu:
        log.warning("tray backend %s has no menus. %s", backend.name, backend.advice)
    with contextlib.ExitStack() as stack:
        session = stack.enter_context(demo_session()) if demo else real_session()
        if not stack.enter_context(single_instance(session.paths)):
            print(f"{APP_NAME} is already running (look for its icon in the tray).")
            return 0
        from claude_usage_gauge.desktop.tray import TrayUnavailable

        app_class = TrayApp
        if len(session.accounts) > 1:
            from claude_usage_gauge.desktop.accounts_app import AccountsTrayApp

            app_class = AccountsTrayApp
        try:
            return app_class(session, backend).run()
        except TrayUnavailable as exc:
            log.warning("no tray: %s", exc)
            print(f"{APP_NAME}: {exc}. Try 'claude-usage-gauge status' instead.", file=sys.stderr)
            return 1


class TrayApp:
    def __init__(self, session: Session, backend: BackendInfo | None = None) -> None:
        from claude_usage_gauge.poller import Poller
        from claude_usage_gauge.sources.credentials import credentials_signature

        self.session = session
        self.store = Store.for_home(session.paths, session.home)
        # Reads for the schedule and the menu go through a cache (see CachingSecretStore);
        # reset and restore use the store itself.
        self.cached_secrets = (
            CachingSecretStore(session.secret_store) if session.secret_store is not None else None
        )
        self.refresher = Refresher(self.store, session.settings, session.home, self.cached_secrets)
        home, cached = session.home, self.cached_secrets
        self.poller = Poller(self.refresher, lambda: credentials_signature(home, cached))
        self._credentials_path = shown_path(home.credentials_file)
        # The settings file as last read (its size and time), to notice edits from elsewhere.
        self._settings_seen = _file_key(session.paths.config_file)
        self.tray = self._make_tray(backend)
        self._remember_notices()

    def _remember_notices(self) -> None:
        from claude_usage_gauge.notice_memory_file import load_notice_memory, save_notice_memory

        path = self.session.paths.notices_file
        self.tray.remember_notices(
            load_notice_memory(path), lambda memory: save_notice_memory(path, memory)
        )

    def _make_tray(self, backend: BackendInfo | None) -> Tray:
        from claude_usage_gauge.desktop.tray import make_tray
        from claude_usage_gauge.desktop.tray_backend import probe_backend

        actions = {
            "refresh": self.poller.refresh_now,
            "details": self._details,
            "copy_report": self._copy_report,
            "open_usage_page": self._open_usage_page,
            "history": self._history,
            "reset_credentials": self._reset_credentials,
            "restore_credentials": self._restore_credentials,
            KEEP_ACTION: _nothing,  # a confirmation's "No": the menu closes, nothing changes
            "toggle_notifications": self._toggle_notifications,
            "toggle_autostart": self._toggle_autostart,
            "quit": self._quit,
        } | self._more_actions()
        chosen = backend or probe_backend()
        # For reports: which tray this is and why (never a path).
        self.tray_name = f"{chosen.name} ({chosen.reason})" if chosen.reason else chosen.name
        return make_tray(
            chosen,
            self.session.settings,
            actions,
            self._menu_context,
            self._ready,
        )

    def _more_actions(self) -> dict[str, Callable[[], None]]:
        """Actions a subclass adds (or replaces): each account's own, with several."""
        return {}

    def run(self) -> int:
        self.poller.subscribe(self.tray.show)
        try:
            self.tray.run()
        finally:
            self.poller.stop()
        log.info("tray stopped")
        return 0

    def _ready(self) -> None:
        log.info("tray ready%s", " (demo)" if self.session.demo else "")
        self.poller.start()

    # -- menu context and actions --------------------------------------------------------------

    def _menu_context(self) -> MenuContext:
        from claude_usage_gauge.sources.credential_backups import list_backups

        newest = None
        with contextlib.suppress(Exception):
            backups = list_backups(self.session.paths.backups_dir, self.cached_secrets)
            newest = f"{backups[0].created_at.astimezone():%Y-%m-%d %H:%M}" if backups else None
        # Called whenever the menu is built, and the SNI backend builds it as the host opens it:
        # so the checkboxes show what the CLI or an editor changed meanwhile.
        self._notice_settings_edit()
        return MenuContext(
            plan=self.refresher.plan,
            notifications_on=self.session.settings.notifications,
            autostart_on=None if self.session.demo else self._autostart_on(),
            newest_backup=newest,
            credentials_path=self._credentials_path,
            backups_dir=shown_path(self.session.paths.backups_dir),
            credentials_found=credentials_found(self.session.home),
        )

    def _notice_settings_edit(self) -> None:
        """Take the notifications setting from the settings file again if the file changed
        since it was last read (one stat when it did not). Only that setting: the others are
        read at start, as the README says."""
        if self.session.demo:
            return
        path = self.session.paths.config_file
        key = _file_key(path)
        if key == self._settings_seen:
            return
        self._settings_seen = key
        on = load_settings(path).notifications
        if on == self.session.settings.notifications:
            return
        log.info("notifications turned %s in the settings file", "on" if on else "off")
        self.session.settings = replace(self.session.settings, notifications=on)
        self.refresher.settings = replace(self.refresher.settings, notifications=on)
        # No redraw from here: this runs while a menu is being built, under the tray's lock.
        self.tray.settings = replace(self.tray.settings, notifications=on)

    def _autostart_on(self) -> bool | None:
        try:
            from claude_usage_gauge.desktop.autostart import AutostartState, autostart_for

            return autostart_for().status().state == AutostartState.ENABLED
        except Exception:
            return None

    def _details(self) -> None:
        """Left click: the same menu where the backend can pop it up, else the details as a
        notification."""
        if self.tray.popup_menu():
            return
        from claude_usage_gauge.core.view import build_view, status_lines
        from claude_usage_gauge.refresh import utc_now

        state = self.poller.last_state or self.store.read()
        lines = status_lines(build_view(state, utc_now(), self.session.settings), utc_now())
        self.tray.notify("Claude usage", "\n".join(lines) or "No usage yet.", topic="details")

    def _copy_report(self) -> None:
        from claude_usage_gauge.bug_report import gather_report, hand_over
        from claude_usage_gauge.refresh import utc_now

        session = self.session
        text = gather_report(
            self.store,
            session.home,
            settings=session.settings,
            secret_store=self.cached_secrets,
            tray=self.tray_name,
            now=utc_now(),
        )
        said = hand_over(text, session.paths.state_dir)
        self.tray.notify("Report for a bug filing", said, topic="report")

    def _open_usage_page(self) -> None:
        threading.Thread(target=webbrowser.open, args=(USAGE_PAGE,), daemon=True).start()

    def _history(self) -> None:
        from claude_usage_gauge.history_file import show_history

        args = (self.store, self.session.settings, self.session.paths)
        threading.Thread(target=show_history, args=args, daemon=True).start()

    def _reset_credentials(self) -> None:
        from claude_usage_gauge.sources.credential_backups import reset_credentials

        session = self.session
        self._move_credentials(
            lambda: reset_credentials(
                session.paths.backups_dir, session.home, session.secret_store
            ),
            "Reset",
            "Credentials moved aside",
            chosen_sign_out=self._expect_sign_out,
        )

    def _expect_sign_out(self) -> None:
        from claude_usage_gauge.refresh import utc_now

        self.tray.expect_sign_out(utc_now() + CHOSEN_SIGN_OUT)

    def _restore_credentials(self) -> None:
        from claude_usage_gauge.sources.credential_backups import restore_credentials

        session = self.session
        self._move_credentials(
            lambda: restore_credentials(
                session.paths.backups_dir, session.home, session.secret_store
            ),
            "Restore",
            "Credentials restored",
        )

    def _move_credentials(
        self,
        move: Callable[[], _Moved],
        verb: str,
        done: str,
        *,
        poller: Poller | None = None,
        paths: AppPaths | None = None,
        chosen_sign_out: Callable[[], None] | None = None,
    ) -> None:
        """Reset or restore (one implementation with the CLI, in backups.py) and say how it went.
        `poller` and `paths`: the account's, when it is not the primary. `chosen_sign_out`: runs
        once the sign-in is moved aside, before the poll that finds it gone."""
        from claude_usage_gauge.sources.credential_backups import NothingToDo

        try:
            result = move()
        except NothingToDo as exc:
            self.tray.notify(f"Nothing to {verb.lower()}", str(exc), topic="credentials")
            return
        except UsageError as exc:  # the Keychain refused or is locked
            self.tray.notify(f"{verb} stopped", exc.message, topic="credentials")
            return
        except OSError as exc:
            text = _os_error_text(exc, paths or self.session.paths)
            self.tray.notify(f"{verb} could not finish", text, topic="credentials")
            return
        if self.cached_secrets is not None:
            self.cached_secrets.clear()
        # Its own topic: the status change this causes must not replace the next steps.
        self.tray.notify(done, result.menu_steps, topic="credentials")
        if chosen_sign_out is not None:
            chosen_sign_out()
        (poller or self.poller).poke()

    def _toggle_notifications(self) -> None:
        settings = self.session.settings
        on = not settings.notifications
        if self.session.demo:
            settings = replace(settings, notifications=on)
        else:
            try:
                settings = save_setting(self.session.paths.config_file, settings, notifications=on)
            except (OSError, ValueError) as exc:
                log.warning("could not save settings: %s", exc)
                settings = replace(settings, notifications=on)
        self.session.settings = settings
        self.refresher.settings = settings
        self._settings_seen = _file_key(self.session.paths.config_file)
        self.tray.update_settings(settings)

    def _toggle_autostart(self) -> None:
        from claude_usage_gauge.desktop.autostart import AutostartState, autostart_for

        auto = autostart_for()
        try:
            if auto.status().state == AutostartState.ENABLED:
                auto.disable()
            else:
                auto.enable()
        except OSError as exc:
            self.tray.notify("Start at login could not be changed", str(exc.strerror or exc))
        self.tray.rebuild()

    def _quit(self) -> None:
        self.poller.stop()
        self.tray.stop()


def _nothing() -> None:
    pass


def shown_path(path: Path) -> str:
    """A path as the menu shows it: written from `~` under the user's home, which is shorter and
    names no user on a screen shared or shot for a bug report."""
    from claude_usage_gauge.core.report import without_home

    return without_home(str(path), str(Path.home()))


def credentials_found(home: ClaudeHome) -> bool | None:
    """Whether there is a credentials file to move aside; None where the sign-in may be
    elsewhere (the macOS Keychain) and the last problem tells."""
    if home.credentials_file.exists():
        return True
    return None if sys.platform == "darwin" else False


def _file_key(path: Path) -> tuple[int, int] | None:
    """The file's modification time and size (None: none there), to notice a change cheaply."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def _os_error_text(exc: OSError, paths: AppPaths) -> str:
    return f"{exc.strerror or exc}. Every backup so far is in {paths.backups_dir}."
