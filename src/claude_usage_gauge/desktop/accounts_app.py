"""The tray with several Claude accounts: a poller each, one icon, one menu.

Each account has its own store, refresher and poller (so its own gate, and only its own token
sent). The icon shows the most constrained account; the tooltip lists every account; the menu
has a submenu per account (core/accounts_menu.py) whose actions (`refresh@work`) act on that
account alone. Notifications are worked out per account and named for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from claude_usage_gauge.accounts import Account
from claude_usage_gauge.core.accounts_menu import (
    AccountPanel,
    account_action,
    accounts_menu,
    accounts_tooltip,
    most_constrained,
    next_redraw,
)
from claude_usage_gauge.core.menu import Entry, MenuContext
from claude_usage_gauge.core.notices import NoticeMemory, notices_for
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.view import View, build_view, status_lines
from claude_usage_gauge.desktop.app import TrayApp, credentials_found, shown_path
from claude_usage_gauge.desktop.session import Session
from claude_usage_gauge.notice_memory_file import load_notice_memory, save_notice_memory
from claude_usage_gauge.poller import Poller
from claude_usage_gauge.refresh import Refresher, utc_now
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.store import Store

if TYPE_CHECKING:
    from claude_usage_gauge.desktop.tray_backend import BackendInfo

log = logging.getLogger(__name__)


@dataclass
class Watch:
    """One account as the tray follows it."""

    account: Account
    store: Store
    refresher: Refresher
    poller: Poller
    state: State | None = None
    memory: NoticeMemory = field(default_factory=NoticeMemory)


def _told(account: Account) -> NoticeMemory:
    """What an earlier run already told about this account."""
    return load_notice_memory(account.paths.notices_file)


class AccountsTrayApp(TrayApp):
    def __init__(self, session: Session, backend: BackendInfo | None = None) -> None:
        from claude_usage_gauge.sources.credentials import credentials_signature

        self._publish_lock = threading.Lock()
        self._shown: State | None = None
        # The primary's store, refresher and poller are the one-account app's own.
        super().__init__(session, backend)
        primary, *others = session.accounts
        self.watches = [
            Watch(primary, self.store, self.refresher, self.poller, memory=_told(primary))
        ]
        cached = self.cached_secrets
        for account in others:
            store = Store.for_home(account.paths, account.home)
            refresher = Refresher(store, session.settings, account.home, cached)

            def signature(home: ClaudeHome = account.home) -> str:
                return credentials_signature(home, cached)

            poller = Poller(refresher, signature)
            self.watches.append(Watch(account, store, refresher, poller, memory=_told(account)))
        self.tray.tooltip_for = self._tooltip
        self.tray.menu_for = self._menu
        self.tray.redraw_for = self._next_redraw

    def _remember_notices(self) -> None:
        """Each account's watch announces and remembers its own (the tray announces nothing)."""

    # -- the actions of each account -------------------------------------------------------------

    def _more_actions(self) -> dict[str, Callable[[], None]]:
        actions: dict[str, Callable[[], None]] = {"refresh": self._refresh_all}
        for account in self.session.accounts:
            name = account.name
            for action, run in (
                ("refresh", lambda w: w.poller.refresh_now()),
                ("history", self._history_of),
                ("copy_report", self._report_of),
                ("reset_credentials", self._reset_of),
                ("restore_credentials", self._restore_of),
            ):
                actions[account_action(action, name)] = self._for(name, run)
        return actions

    def _for(self, name: str, run: Callable[[Watch], None]) -> Callable[[], None]:
        def action() -> None:
            run(next(w for w in self.watches if w.account.name == name))

        return action

    def _refresh_all(self) -> None:
        for watch in self.watches:
            watch.poller.refresh_now()

    def _history_of(self, watch: Watch) -> None:
        from claude_usage_gauge.history_file import show_history

        args = (watch.store, self.session.settings, watch.account.paths)
        threading.Thread(target=show_history, args=args, daemon=True).start()

    def _report_of(self, watch: Watch) -> None:
        from claude_usage_gauge.bug_report import gather_report, hand_over

        text = gather_report(
            watch.store,
            watch.account.home,
            settings=self.session.settings,
            secret_store=self.cached_secrets,
            tray=self.tray_name,
            now=utc_now(),
        )
        said = hand_over(text, watch.account.paths.state_dir)
        self.tray.notify("Report for a bug filing", said, topic="report")

    def _reset_of(self, watch: Watch) -> None:
        from claude_usage_gauge.sources.credential_backups import reset_credentials

        account, secrets = watch.account, self.session.secret_store
        self._move_credentials(
            lambda: reset_credentials(account.paths.backups_dir, account.home, secrets),
            "Reset",
            f"{account.name}: credentials moved aside",
            poller=watch.poller,
            paths=account.paths,
            chosen_sign_out=lambda: self._sign_out_chosen(watch),
        )

    def _sign_out_chosen(self, watch: Watch) -> None:
        """This account's missing sign-in, right after its reset, is no alarm (see app.py)."""
        from claude_usage_gauge.desktop.app import CHOSEN_SIGN_OUT

        with self._publish_lock:
            watch.memory = watch.memory.expecting_sign_out(utc_now() + CHOSEN_SIGN_OUT)

    def _restore_of(self, watch: Watch) -> None:
        from claude_usage_gauge.sources.credential_backups import restore_credentials

        account, secrets = watch.account, self.session.secret_store
        self._move_credentials(
            lambda: restore_credentials(account.paths.backups_dir, account.home, secrets),
            "Restore",
            f"{account.name}: credentials restored",
            poller=watch.poller,
            paths=account.paths,
        )

    def _details(self) -> None:
        if self.tray.popup_menu():
            return
        now = utc_now()
        lines: list[str] = []
        for panel in self._panels(now, with_context=False):
            lines += [f"{panel.name}:", *(f"  {line}" for line in status_lines(panel.view, now))]
        self.tray.notify("Claude usage", "\n".join(lines), topic="details")

    def _toggle_notifications(self) -> None:
        super()._toggle_notifications()
        for watch in self.watches:
            watch.refresher.settings = self.session.settings

    def _quit(self) -> None:
        for watch in self.watches:
            watch.poller.stop()
        self.tray.stop()

    # -- running -------------------------------------------------------------------------------

    def run(self) -> int:
        for watch in self.watches:
            watch.poller.subscribe(self._publisher(watch))
        try:
            self.tray.run()
        finally:
            for watch in self.watches:
                watch.poller.stop()
        log.info("tray stopped")
        return 0

    def _ready(self) -> None:
        log.info("tray ready (%d accounts)", len(self.watches))
        for watch in self.watches:
            watch.poller.start()

    def _publisher(self, watch: Watch) -> Callable[[State], None]:
        def publish(state: State) -> None:
            self._publish(watch, state)

        return publish

    def _publish(self, watch: Watch, state: State) -> None:
        """A poller has news: the icon shows the most constrained account, and the menu and
        tooltip are redrawn for all."""
        now = utc_now()
        settings = self.session.settings
        with self._publish_lock:
            news = state != watch.state
            watch.state = state
            view = build_view(state, now, settings)
            before = watch.memory
            notes, watch.memory = notices_for(view, before, settings.notify_percents, now)
            if watch.memory.to_json() != before.to_json():
                save_notice_memory(watch.account.paths.notices_file, watch.memory)
            views = [self._view(w, now) for w in self.watches]
            chosen = self.watches[most_constrained(views)].state or state
            same = chosen is self._shown or chosen == self._shown
            self._shown = chosen
        if same and news:
            self.tray.rebuild()  # another account's news: the menu and tooltip change
        else:
            self.tray.show(chosen, announce=False)
        if settings.notifications:
            for note in notes:
                self.tray.notify(
                    f"{watch.account.name}: {note.title}",
                    note.message,
                    account_action(note.topic, watch.account.name),
                )

    # -- what the tray shows ---------------------------------------------------------------------

    def _view(self, watch: Watch, now: datetime) -> View:
        return build_view(watch.state or State(), now, self.session.settings)

    def _panels(self, now: datetime, *, with_context: bool) -> list[AccountPanel]:
        return [
            AccountPanel(
                w.account.name,
                self._view(w, now),
                self._context_of(w) if with_context else MenuContext(),
            )
            for w in self.watches
        ]

    def _context_of(self, watch: Watch) -> MenuContext:
        import contextlib

        from claude_usage_gauge.sources.credential_backups import list_backups

        newest = None
        with contextlib.suppress(Exception):
            backups = list_backups(watch.account.paths.backups_dir, self.cached_secrets)
            newest = f"{backups[0].created_at.astimezone():%Y-%m-%d %H:%M}" if backups else None
        return MenuContext(
            plan=watch.refresher.plan,
            newest_backup=newest,
            credentials_path=shown_path(watch.account.home.credentials_file),
            backups_dir=shown_path(watch.account.paths.backups_dir),
            credentials_found=credentials_found(watch.account.home),
        )

    def _tooltip(self, view: View, now: datetime) -> str:
        return accounts_tooltip(self._panels(now, with_context=False))

    def _next_redraw(self, view: View, now: datetime) -> datetime | None:
        return next_redraw(self._panels(now, with_context=False), now)

    def _menu(self, view: View, now: datetime, context: MenuContext) -> tuple[Entry, ...]:
        return accounts_menu(self._panels(now, with_context=True), now, context)
