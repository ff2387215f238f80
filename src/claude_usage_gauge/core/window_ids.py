"""The ids of the two windows every plan has, and the ones Claude Code's statusline feed carries.

A module of its own so the statusline's fast path can name them without loading the usage model
(core/usage.py holds everything else about a kind of window, in its one table)."""

FIVE_HOUR = "five_hour"
SEVEN_DAY = "seven_day"
# What Claude Code hands its statusline command under `rate_limits`.
STATUSLINE_WINDOWS = (FIVE_HOUR, SEVEN_DAY)
