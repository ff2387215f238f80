"""The Notify calls in a bus monitor's log (`SessionBus.monitor`), with the ids the notification
server answered: what the tray asked the desktop to show, in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claude_usage_gauge.testing.session_bus import read_monitor


def notify_calls(path: Path) -> list[dict[str, Any]]:
    """Each Notify call as {summary, replaces, id}, with the id the server answered (None: no
    answer yet, or no server)."""
    messages = read_monitor(path)
    replies = {
        m.get("reply_cookie"): m["payload"]["data"][0]
        for m in messages
        if m.get("type") == "method_return" and m.get("payload", {}).get("type") == "u"
    }
    return [
        {
            "summary": m["payload"]["data"][3],
            "replaces": m["payload"]["data"][1],
            "id": replies.get(m.get("cookie")),
        }
        for m in messages
        if m.get("type") == "method_call" and m.get("member") == "Notify"
    ]


def summaries(path: Path) -> list[str]:
    return [str(call["summary"]) for call in notify_calls(path)]
