"""Desktop notifications over org.freedesktop.Notifications, never waited for.

Each topic keeps the id the server gave its last notification and passes it as replaces_id: a
new reading replaces the old reading, while the confirmation of a credentials action stays up
beside the status change it causes. A missing or failing service (one whose start fails, one
that never answers) is logged once until it works again, and costs the tray nothing: calls are
sent, and their answers, or their timeouts, are handled later by the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from jeepney import DBusAddress, Message, new_method_call

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.desktop.dbus.connection import CallError, ReplyHandler

log = logging.getLogger(__name__)

SERVICE = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)
# Long enough for a notification daemon that D-Bus starts on demand; short enough that a broken
# one is noticed while the user still remembers what they clicked.
REPLY_TIMEOUT = 10.0
EXPIRE_DEFAULT = -1

Call = Callable[[Message, ReplyHandler, float], None]


class Notifier:
    def __init__(self, call: Call, app_name: str = APP_NAME) -> None:
        self._call = call
        self._app_name = app_name
        self.ids: dict[str, int] = {}  # topic -> the server's id of its last notification
        self._markup: bool | None = None  # does the server read body markup? None: not asked
        self._waiting: list[tuple[str, str, str]] = []  # until the capabilities are known
        self._failing = False

    def notify(self, topic: str, title: str, body: str) -> None:
        if self._markup is None:
            if not self._waiting:
                self._call(
                    new_method_call(SERVICE, "GetCapabilities"), self._on_caps, REPLY_TIMEOUT
                )
            self._waiting.append((topic, title, body))
            return
        text = escape(body) if self._markup else body
        message = new_method_call(
            SERVICE,
            "Notify",
            "susssasa{sv}i",
            (
                self._app_name,
                self.ids.get(topic, 0),
                "",
                title,
                text,
                [],
                {"desktop-entry": ("s", APP_NAME)},
                EXPIRE_DEFAULT,
            ),
        )
        self._call(message, lambda body, error: self._on_reply(topic, body, error), REPLY_TIMEOUT)

    def _on_caps(self, body: tuple[Any, ...] | None, error: CallError | None) -> None:
        if error is not None or body is None:
            self._failed(error)
            # Ask again next time (the service may be back); what could not be shown now is old
            # news by then.
            self._waiting.clear()
            return
        # Markup servers would read "<" and "&" in a message as markup; others show them as is.
        self._markup = "body-markup" in list(body[0])
        waiting, self._waiting = self._waiting, []
        for topic, title, text in waiting:
            self.notify(topic, title, text)

    def _on_reply(self, topic: str, body: tuple[Any, ...] | None, error: CallError | None) -> None:
        if error is not None or body is None:
            self._failed(error)
            return
        self.ids[topic] = int(body[0])
        if self._failing:
            log.info("desktop notifications work again")
            self._failing = False

    def _failed(self, error: CallError | None) -> None:
        if not self._failing:
            log.warning(
                "desktop notifications are unavailable (%s); the tray goes on without them",
                error,
            )
            self._failing = True
