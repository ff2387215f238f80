"""What Claude Code's hooks told us about its last turn, as a value, and what it means.

Claude Code runs our hook command when a turn ends: `StopFailure` when it ended on an API error
(with an error kind such as rate_limit, billing_error, authentication_failed, invalid_request,
and details), `Stop` when it ended normally. The last of them is kept; this module decides what
it says, purely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STOP = "Stop"
STOP_FAILURE = "StopFailure"
# The phrase users report when Claude Code refuses every command though the plan has room.
OUT_OF_EXTRA_USAGE_TEXT = "out of extra usage"
# Error kinds that mean "refused for money", whatever the message says.
BILLING_KINDS = frozenset({"billing_error", "out_of_credits", "credit_balance_too_low"})

# Plain words for the kinds Claude Code reports, for the menu and `status`.
_KIND_WORDS = {
    "rate_limit": "rate limited",
    "billing_error": "refused for billing",
    "authentication_failed": "its sign-in failed",
    "invalid_request": "the request was refused",
    "overloaded": "the service was overloaded",
    "server_error": "the service had an error",
}


@dataclass(frozen=True, slots=True)
class ClaudeCodeEvent:
    event: str  # STOP or STOP_FAILURE
    at: datetime
    kind: str = ""  # the error kind Claude Code reported, "" for a normal stop
    message: str = ""  # the error's text, capped; never a token (Claude Code's own words)
    request_id: str = ""

    @property
    def failed(self) -> bool:
        return self.event == STOP_FAILURE

    @property
    def out_of_extra_usage(self) -> bool:
        """Claude Code was refused for extra usage or billing."""
        return self.failed and (
            self.kind in BILLING_KINDS or OUT_OF_EXTRA_USAGE_TEXT in self.message.lower()
        )

    def describe(self) -> str:
        """'rate limited', 'out of extra usage', … in plain words."""
        if self.out_of_extra_usage:
            return "out of extra usage"
        return _KIND_WORDS.get(self.kind, self.kind.replace("_", " ") or "an error")


def current_failure(
    event: ClaudeCodeEvent | None, credentials_changed_at: datetime | None
) -> ClaudeCodeEvent | None:
    """The failure Claude Code last reported, while it still stands: a later normal turn (a
    `Stop` event replaces it) or a new sign-in since it ends it."""
    if event is None or not event.failed:
        return None
    if credentials_changed_at is not None and credentials_changed_at > event.at:
        return None
    return event
