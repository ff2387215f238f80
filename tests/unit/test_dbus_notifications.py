"""Notifications: one replaces_id per topic, markup escaped only for servers that read it, and
nothing sent twice or lost while the server's capabilities are asked. The `call` seam stands
for the loop; the real bus and notification server are in tests/e2e/test_sni_tray.py."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from claude_usage_gauge.desktop.dbus.connection import CallError, ReplyHandler
from claude_usage_gauge.desktop.dbus.notifications import Notifier


class Calls:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...], ReplyHandler]] = []

    def __call__(self, message: Any, on_reply: ReplyHandler, _timeout: float) -> None:
        member = message.header.fields[3]  # HeaderFields.member
        self.sent.append((member, tuple(message.body), on_reply))

    def answer(self, index: int, *body: Any) -> None:
        self.sent[index][2](body, None)

    def fail(self, index: int) -> None:
        self.sent[index][2](None, CallError("org.freedesktop.DBus.Error.ServiceUnknown"))


def test_each_topic_replaces_only_its_own_notification() -> None:
    calls = Calls()
    notifier = Notifier(calls)
    notifier.notify("credentials", "Credentials moved aside", "Log in again.")
    notifier.notify("problem", "Claude usage cannot be read", "Not signed in")
    assert [member for member, *_ in calls.sent] == ["GetCapabilities"]  # the rest wait
    calls.answer(0, ["body", "body-markup"])
    calls.answer(1, 7)
    calls.answer(2, 8)
    notifier.notify("credentials", "Credentials restored", "The numbers come back.")
    notifier.notify("problem", "Claude usage is readable again", "Current.")
    replaces = {body[3]: body[1] for member, body, _ in calls.sent if member == "Notify"}
    assert replaces == {
        "Credentials moved aside": 0,
        "Claude usage cannot be read": 0,
        "Credentials restored": 7,
        "Claude usage is readable again": 8,
    }


@pytest.mark.parametrize(
    ("caps", "body"), [(["body-markup"], "a &lt;b&gt; &amp; c"), ([], "a <b> & c")]
)
def test_markup_is_escaped_for_servers_that_read_it(caps: list[str], body: str) -> None:
    calls = Calls()
    notifier = Notifier(calls)
    notifier.notify("t", "Title", "a <b> & c")
    calls.answer(0, caps)
    assert calls.sent[1][1][4] == body


def test_a_failing_service_is_logged_once_and_asked_again_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    calls = Calls()
    notifier = Notifier(calls)
    notifier.notify("t", "One", "1")
    calls.fail(0)
    notifier.notify("t", "Two", "2")
    calls.fail(1)
    assert [member for member, *_ in calls.sent] == ["GetCapabilities", "GetCapabilities"]
    assert caplog.text.count("notifications are unavailable") == 1
    notifier.notify("t", "Three", "3")
    calls.answer(2, [])
    calls.answer(3, 5)
    assert "work again" in caplog.text
    assert notifier.ids == {"t": 5}
