"""Every reason usage cannot be shown, as a kind plus plain words.

One exception type for all of them keeps the shells simple: they catch `UsageError`, store
`error.kind`, show `error.message`, and ask `guidance` what the user can do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from claude_usage_gauge.core.values import parse_iso


class ErrorKind(StrEnum):
    # Credentials (found before any request is made)
    NO_CREDENTIALS = "no_credentials"
    BAD_CREDENTIALS = "bad_credentials"
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 (a kind name, not a secret)
    MISSING_SCOPE = "missing_scope"
    # The usage endpoint
    RATE_LIMITED = "rate_limited"
    UNAUTHORIZED = "unauthorized"
    OUT_OF_EXTRA_USAGE = "out_of_extra_usage"
    SERVER_ERROR = "server_error"
    NETWORK = "network"
    BAD_RESPONSE = "bad_response"
    # Our own settings (an API base we refuse, an unreadable settings file)
    CONFIG = "config"

    @property
    def policy(self) -> KindPolicy:
        return POLICIES[self]

    @property
    def needs_new_credentials(self) -> bool:
        return POLICIES[self].needs_new_credentials

    @property
    def transient(self) -> bool:
        return POLICIES[self].transient

    @property
    def found_locally(self) -> bool:
        return POLICIES[self].found_locally

    @property
    def announced(self) -> bool:
        return POLICIES[self].announced


@dataclass(frozen=True, slots=True)
class KindPolicy:
    """What a kind of failure means for the rest of the app."""

    # Only a change of credentials can cure it: no request until they change.
    needs_new_credentials: bool = False
    # A passing fault: back off and try again.
    transient: bool = False
    # Found on this machine without asking the server (the sign-in, our own settings): it stands
    # until the next look at the sign-in, not until a server answer.
    found_locally: bool = False
    # Worth a notification when it starts.
    announced: bool = False


_SIGN_IN = KindPolicy(needs_new_credentials=True, found_locally=True, announced=True)
POLICIES: dict[ErrorKind, KindPolicy] = {
    ErrorKind.NO_CREDENTIALS: _SIGN_IN,
    ErrorKind.BAD_CREDENTIALS: _SIGN_IN,
    ErrorKind.TOKEN_EXPIRED: _SIGN_IN,
    ErrorKind.MISSING_SCOPE: _SIGN_IN,
    ErrorKind.UNAUTHORIZED: KindPolicy(needs_new_credentials=True, announced=True),
    ErrorKind.RATE_LIMITED: KindPolicy(announced=True),
    ErrorKind.OUT_OF_EXTRA_USAGE: KindPolicy(transient=True, announced=True),
    ErrorKind.SERVER_ERROR: KindPolicy(transient=True),
    ErrorKind.NETWORK: KindPolicy(transient=True),
    ErrorKind.BAD_RESPONSE: KindPolicy(transient=True),
    ErrorKind.CONFIG: KindPolicy(found_locally=True),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A plain value describing a failure; what the store keeps and the UI shows."""

    kind: ErrorKind
    message: str
    retry_at: datetime | None = None
    # Extra detail for "full text" views (status code, server message); never a token.
    detail: str = ""
    # The server's id for the answer (its `request-id`), which support asks for.
    request_id: str = ""

    @property
    def shown_detail(self) -> str:
        """The detail as people read it after the message: without the "HTTP 401: " the message
        already says ("…did not accept the sign-in (HTTP 401). (OAuth token has expired.)")."""
        status, sep, rest = self.detail.partition(": ")
        if sep and status.startswith("HTTP ") and f"({status})" in self.message:
            return rest
        return self.detail

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "detail": self.detail,
            "request_id": self.request_id,
        }

    @classmethod
    def from_json(cls, raw: object) -> Problem | None:
        """Lenient: anything unreadable is None (the store may be torn or from elsewhere)."""
        if not isinstance(raw, dict):
            return None
        raw_kind = raw.get("kind")
        if not isinstance(raw_kind, str):
            return None
        try:
            kind = ErrorKind(raw_kind)
        except ValueError:
            return None
        message = raw.get("message")
        detail = raw.get("detail")
        request_id = raw.get("request_id")
        return cls(
            kind=kind,
            message=message if isinstance(message, str) else kind.value,
            retry_at=parse_iso(raw.get("retry_at")),
            detail=detail if isinstance(detail, str) else "",
            request_id=request_id if isinstance(request_id, str) else "",
        )


class UsageError(Exception):
    """Raised by credentials, api and parser code; carries a `Problem`."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retry_at: datetime | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.problem = Problem(kind=kind, message=message, retry_at=retry_at, detail=detail)

    @property
    def kind(self) -> ErrorKind:
        return self.problem.kind

    @property
    def message(self) -> str:
        return self.problem.message

    @property
    def retry_at(self) -> datetime | None:
        return self.problem.retry_at
