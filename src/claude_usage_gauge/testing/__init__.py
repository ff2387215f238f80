"""Reusable fakes for tests and the demo mode: a loopback fake of the usage API.

Names are loaded on first use, so ``python -m claude_usage_gauge.testing.fake_api`` runs the module
once, as ``__main__``, instead of importing it twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_usage_gauge.testing.fake_api import (
        DEMO_CYCLE,
        USAGE_PATH,
        FakeUsageAPI,
        RecordedRequest,
        Reply,
        api_error,
        demo_replies,
        demo_reply,
        demo_responder,
        html_error,
        missing_scope,
        ok,
        out_of_extra_usage,
        rate_limited,
        redirect,
        unauthorized,
        usage_body,
    )

__all__ = [
    "DEMO_CYCLE",
    "USAGE_PATH",
    "FakeUsageAPI",
    "RecordedRequest",
    "Reply",
    "api_error",
    "demo_replies",
    "demo_reply",
    "demo_responder",
    "html_error",
    "missing_scope",
    "ok",
    "out_of_extra_usage",
    "rate_limited",
    "redirect",
    "unauthorized",
    "usage_body",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        return getattr(importlib.import_module("claude_usage_gauge.testing.fake_api"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
