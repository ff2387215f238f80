"""What the statusline bridge prints: the numbers it knows, as one short line.

The numbers come from Claude Code's stdin when it sent some, else from the bridge file and the
shared state file, the newer winning window by window. Staleness, reset times, ISO parsing and
the clock are the core's (core/staleness.py, core/values.py, core/state_format.py): this module
only combines and formats, and imports nothing heavy.
"""

from __future__ import annotations

import os

from claude_usage_gauge.core.values import local_clock, reset_epoch
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY, STATUSLINE_WINDOWS
from claude_usage_gauge.statusline import bridge_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from claude_usage_gauge.core.state_format import Glance

# window id -> (percent, reset time in epoch seconds or None), as core.state_format.Windows
Windows = dict[str, tuple[float, float | None]]

STALE_MARK = "*"
FIELDS = ("five_hour", "seven_day", "five_hour_resets", "seven_day_resets", "stale")


class Known:
    """The windows to show, when they were true (epoch seconds) and whether that is old news."""

    __slots__ = ("at", "stale", "windows")

    def __init__(self, windows: Windows, at: float, stale: bool = False) -> None:
        self.windows = windows
        self.at = at
        self.stale = stale


def windows_from_rate_limits(limits: bridge_file.RateLimits) -> Windows:
    return {
        window_id: (part["used_percentage"], reset_epoch(part.get("resets_at")))
        for window_id, part in limits.items()
    }


def read_state_glance(path: str) -> Glance | None:
    """The shared state file's numbers; None when it is missing, torn, huge or foreign."""
    from claude_usage_gauge.core.state_format import MAX_STORE_BYTES, glance
    from claude_usage_gauge.files import read_regular

    try:
        # Never blocks on a pipe (Claude Code's status line would wait), never reads a device;
        # only a regular file of ours.
        data = read_regular(path, MAX_STORE_BYTES, ours=True)
    except (OSError, ValueError):
        return None
    try:
        return glance(bridge_file.loads(data))
    except (ValueError, RecursionError):
        return None


def newest_known(state_dir: str, now: float) -> Known | None:
    """What the bridge file and the state file know, the newer one winning window by window.

    Only when Claude Code sent no numbers (before its first reply), so the state file's format
    and the staleness rule are loaded here, not on the common path."""
    from claude_usage_gauge.core.staleness import DEFAULT_POLL_INTERVAL
    from claude_usage_gauge.core.state_format import STORE_FILE_NAME, Glance

    glances: list[Glance] = []
    bridged = bridge_file.read_bridge(bridge_file.bridge_path(state_dir))
    if bridged is not None:
        at, limits = bridged["at"], bridged["rate_limits"]
        # read_bridge made them so; this tells the type checker.
        assert isinstance(at, float)
        assert isinstance(limits, dict)
        glances.append(Glance(windows_from_rate_limits(limits), at, from_statusline=True))
    stored = read_state_glance(os.path.join(state_dir, STORE_FILE_NAME))
    if stored is not None:
        glances.append(stored)
    if not glances:
        return None
    glances.sort(key=lambda g: g.at)
    windows: Windows = {}
    for item in glances:  # oldest first: the newer one's windows replace the older one's
        windows.update(item.windows)
    newest = glances[-1]
    # The failure the state file records counts against whichever numbers are newest.
    combined = Glance(
        windows,
        newest.at,
        from_statusline=newest.from_statusline,
        failed_at=stored.failed_at if stored is not None else None,
        poll_interval=stored.poll_interval if stored is not None else None,
    )
    return Known(windows, newest.at, combined.stale(now, DEFAULT_POLL_INTERVAL))


def line_fields(known: Known | None, now: float) -> dict[str, str]:
    """The template's named fields: rounded percents and local reset clock times, "" if unknown."""
    values = dict.fromkeys(FIELDS, "")
    if known is None:
        return values
    for window_id in STATUSLINE_WINDOWS:
        if window_id not in known.windows:
            continue
        percent, resets_at = known.windows[window_id]
        if resets_at is not None and resets_at <= now:
            # The window has reset since these numbers: it reads 0 % without asking anyone.
            percent, resets_at = 0.0, None
        values[window_id] = f"{percent if percent > 0 else 0.0:.0f}"
        if resets_at is not None:
            values[f"{window_id}_resets"] = local_clock(resets_at, now) or ""
    values["stale"] = STALE_MARK if known.stale else ""
    return values


def default_line(fields: Mapping[str, str]) -> str:
    """'5h 51% · 7d 15% · resets 14:30'; the stale mark follows the first percent."""
    parts: list[str] = []
    if fields[FIVE_HOUR]:
        parts.append(f"5h {fields[FIVE_HOUR]}%")
    if fields[SEVEN_DAY]:
        parts.append(f"7d {fields[SEVEN_DAY]}%")
    if not parts:
        return ""
    parts[0] += fields["stale"]
    if fields[FIVE_HOUR] and fields["five_hour_resets"]:
        parts.append(f"resets {fields['five_hour_resets']}")
    return " · ".join(parts)


def render_line(known: Known | None, now: float, template: str | None = None) -> str:
    """Our line; nothing when there is no 5-hour or weekly number at all."""
    fields = line_fields(known, now)
    if not fields[FIVE_HOUR] and not fields[SEVEN_DAY]:
        return ""
    if template:
        try:
            text = template.format(**fields)
        except Exception:  # noqa: S110 - a user's template: any mistake in it means the default
            pass
        else:
            # One status line: a template's line breaks or control characters become spaces.
            return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text).strip()
    return default_line(fields)


class _Asked(dict[str, str]):
    """The template's fields, noting every name it asks for that is not one of them."""

    def __init__(self) -> None:
        super().__init__(dict.fromkeys(FIELDS, ""))
        self.unknown: list[str] = []

    def __missing__(self, key: str) -> str:
        if key not in self.unknown:
            self.unknown.append(key)
        return ""


def template_problem(template: str) -> str | None:
    """What is wrong with a `--format` template, in one sentence for stderr; None when it is
    fine. Checked once per run, whether or not there are numbers to show."""
    asked = _Asked()
    try:
        template.format_map(asked)
    except Exception as exc:  # a user's template: whatever it does wrong is told, not raised
        reason = str(exc) or type(exc).__name__
        return f"--format could not be used ({reason}); the default line is shown."
    if not asked.unknown:
        return None
    names = ", ".join(f"{{{name}}}" for name in asked.unknown)
    known = ", ".join(f"{{{name}}}" for name in FIELDS)
    field = "field" if len(asked.unknown) == 1 else "fields"
    return f"--format: unknown {field} {names}; the default line is shown. Known fields: {known}."


def combine(theirs: str | None, ours: str) -> str:
    """Their output first; ours beside a one-line output, or under a multi-line one."""
    theirs = (theirs or "").rstrip("\r\n")
    if not theirs:
        return ours
    if not ours:
        return theirs
    separator = "\n" if "\n" in theirs else "  "
    return f"{theirs}{separator}{ours}"
