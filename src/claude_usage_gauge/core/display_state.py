"""What the tray shows overall, one of a few states: the view decides it, the gauge draws it."""

from __future__ import annotations

from enum import StrEnum


class DisplayState(StrEnum):
    STARTING = "starting"
    FRESH = "fresh"
    STALE = "stale"
    RATE_LIMITED = "rate_limited"
    ERROR = "error"
    SIGNED_OUT = "signed_out"
