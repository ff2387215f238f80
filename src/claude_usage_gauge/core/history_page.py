"""A week of usage as one self-contained HTML page: inline SVG, no script, nothing fetched.

Pure: the shared state, a clock and the thresholds in, the page's text out (the shell writes and
opens it). Per window: the last seven days of percent, the reset moments, the notification
thresholds, and the current pace drawn on to the next reset. Every text from outside (window
labels come from the service) is escaped; the page's policy forbids scripts and any load.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from claude_usage_gauge.core.pace import pace_rate, pace_reach
from claude_usage_gauge.core.state import HistoryPoint, State
from claude_usage_gauge.core.usage import WINDOW_KINDS, Window, apply_resets, window_order
from claude_usage_gauge.core.values import zone_name
from claude_usage_gauge.core.window_ids import SEVEN_DAY

_Localizer = Callable[[datetime], datetime]

SPAN = timedelta(days=7)
# Points further apart than this were not watched in between (the tray was not running).
GAP = timedelta(minutes=45)
WIDTH, HEIGHT = 960, 230
LEFT, RIGHT, TOP, BOTTOM = 46, 64, 14, 30
# A window without a pace rule of its own is judged as the week is.
WEEKLY = WINDOW_KINDS[SEVEN_DAY]

STYLE = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d1d1f; --muted: #6e6e73;
  --grid: #e2e2e7; --line: #2563eb; --fill: rgba(37, 99, 235, 0.12); --warn: #b45309;
  --crit: #dc2626; --reset: #8e8e93; --pace: #7c3aed; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #161618; --fg: #f2f2f7; --muted: #a1a1a6; --grid: #2c2c30; --line: #60a5fa;
    --fill: rgba(96, 165, 250, 0.18); --warn: #f59e0b; --crit: #f87171; --reset: #8e8e93;
    --pace: #c4b5fd; }
}
body { background: var(--bg); color: var(--fg); margin: 24px auto; max-width: 1000px;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 2px; }
p { margin: 2px 0; } .muted { color: var(--muted); }
svg { display: block; width: 100%; height: auto; }
svg text { fill: var(--muted); font-size: 12px; }
.grid { stroke: var(--grid); stroke-width: 1; }
.day { stroke: var(--grid); stroke-width: 1; }
.use { fill: none; stroke: var(--line); stroke-width: 2; stroke-linejoin: round; }
.area { fill: var(--fill); stroke: none; }
.warn { stroke: var(--warn); stroke-dasharray: 6 4; } text.warn { fill: var(--warn); stroke: none; }
.crit { stroke: var(--crit); stroke-dasharray: 6 4; } text.crit { fill: var(--crit); stroke: none; }
.reset { stroke: var(--reset); stroke-dasharray: 2 3; }
.now { stroke: var(--fg); stroke-opacity: 0.35; }
.pace { fill: none; stroke: var(--pace); stroke-width: 2; stroke-dasharray: 7 5; }
text.pace { fill: var(--pace); stroke: none; }
.key span { display: inline-block; width: 18px; height: 0; border-top: 2px solid;
  margin: 0 4px 3px 12px; }
"""


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where a moment and a percent land in one chart."""

    start: datetime
    end: datetime
    top_percent: float

    def x(self, moment: datetime) -> float:
        share = (moment - self.start) / (self.end - self.start)
        return LEFT + min(max(share, 0.0), 1.0) * (WIDTH - LEFT - RIGHT)

    def y(self, percent: float) -> float:
        share = min(max(percent, 0.0), self.top_percent) / self.top_percent
        return TOP + (1.0 - share) * (HEIGHT - TOP - BOTTOM)


def history_page(
    state: State,
    now: datetime,
    *,
    thresholds: tuple[float, ...] = (80.0, 95.0),
    tz: tzinfo | None = None,
) -> str:
    """The whole page. `tz` is the reader's time zone (None: this machine's)."""
    local = _local(tz)
    windows = _windows(state, now)
    sections = [_section(w, state, now, thresholds, local) for w in windows]
    body = "\n".join(sections) or '<p class="muted">No usage recorded yet.</p>'
    # The page may be read elsewhere or later: its times are in the zone named here.
    made_at = local(now)
    made = f"{made_at.strftime('%a %d %b %Y, %H:%M')} {zone_name(made_at)}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Claude usage, last 7 days</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Claude usage, last 7 days</h1>
<p class="muted">Made {_esc(made)} by claude-usage-gauge from the numbers it saw.
Thresholds at {_esc(" and ".join(f"{t:g} %" for t in thresholds))}.</p>
<p class="muted key"><span style="color: var(--line)"></span>used
<span style="color: var(--pace); border-top-style: dashed"></span>at the current pace
<span style="color: var(--reset); border-top-style: dotted"></span>reset</p>
{body}
</body>
</html>
"""


def _windows(state: State, now: datetime) -> list[Window]:
    """The windows to draw: the newest answer's (resets applied), then any only in history."""
    current = list(apply_resets(state.snapshot, now).windows) if state.snapshot else []
    known = {w.id for w in current}
    since = now - SPAN
    for point in state.history:
        if point.at < since:
            continue
        for window_id in point.percents:
            if window_id not in known:
                kind = WINDOW_KINDS.get(window_id)
                current.append(Window(window_id, kind.label if kind else window_id, 0.0))
                known.add(window_id)
    return sorted(current, key=window_order)


def _section(
    window: Window,
    state: State,
    now: datetime,
    thresholds: tuple[float, ...],
    local: _Localizer,
) -> str:
    points = _series(state.history, now, window.id)
    projection = _projection(window, state.history, now) if state.snapshot else None
    end = max(now, projection[-1][0] if projection else now)
    top = max([100.0, *(p for _, p in points), *(p for _, p in projection or [])])
    frame = _Frame(now - SPAN, end, float(-(-top // 25) * 25))
    parts = [_grid(frame, local), *_thresholds(frame, thresholds)]
    resets = [t for t in state.resets.get(window.id, ()) if frame.start <= t <= frame.end]
    parts += [_reset_mark(frame, t) for t in resets]
    parts += _usage_paths(frame, points)
    now_x = frame.x(now)
    parts.append(
        f'<line class="now" x1="{now_x:.1f}" y1="{TOP}" x2="{now_x:.1f}" y2="{HEIGHT - BOTTOM}"/>'
    )
    parts.append(f'<text x="{now_x:.1f}" y="{TOP - 3}" text-anchor="middle">now</text>')
    if projection:
        coords = " ".join(f"{frame.x(t):.1f},{frame.y(p):.1f}" for t, p in projection)
        parts.append(f'<polyline class="pace" points="{coords}"/>')
    label = _esc(window.label)
    summary = _esc(_summary(window, projection, now, local))
    svg = "\n".join(parts)
    return f"""<h2>{label}</h2>
<p>{summary}</p>
<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}: the last 7 days">
<title>{label}: the last 7 days</title>
{svg}
</svg>"""


def _series(
    history: tuple[HistoryPoint, ...], now: datetime, window_id: str
) -> list[tuple[datetime, float]]:
    """The window's percents over the last week. Once it was seen, an answer without it means
    0 % (the service leaves out a window nobody uses, as after a reset)."""
    series: list[tuple[datetime, float]] = []
    for point in history:
        if point.at < now - SPAN or point.at > now:
            continue
        if window_id in point.percents:
            series.append((point.at, point.percents[window_id]))
        elif series and point.percents:
            series.append((point.at, 0.0))
    return series


def _projection(
    window: Window, history: tuple[HistoryPoint, ...], now: datetime
) -> list[tuple[datetime, float]] | None:
    """From the newest numbers along the recent climb to the reset (or to 100 % if sooner)."""
    if window.resets_at is None or window.resets_at <= now or window.resets_at > now + SPAN:
        return None
    kind = window.kind if window.kind.pace_name else WEEKLY
    pace = pace_rate(history, window.id, now, kind.pace_lookback, kind.pace_min_span)
    start, rate = pace if pace is not None else (now, 0.0)
    start = min(start, now)
    at_reset = window.percent + rate * (window.resets_at - start).total_seconds()
    reach = pace_reach(history, window, now) if window.kind.pace_name else None
    if at_reset >= 100.0 and rate > 0:
        if reach is None or not start < reach < window.resets_at:
            reach = start + timedelta(seconds=(100.0 - window.percent) / rate)
        return [(start, window.percent), (reach, 100.0), (window.resets_at, 100.0)]
    return [(start, window.percent), (window.resets_at, at_reset)]


def _summary(
    window: Window,
    projection: list[tuple[datetime, float]] | None,
    now: datetime,
    local: _Localizer,
) -> str:
    text = f"Now {window.percent:.0f} %"
    if window.resets_at is None or window.resets_at <= now:
        return text + " · no reset scheduled"
    text += f" · resets {_when(window.resets_at, local)}"
    if projection is None:
        return text
    if len(projection) == 3:
        return text + f" · at this pace 100 % at {_when(projection[1][0], local)}, before the reset"
    end = projection[-1][1]
    if end - window.percent < 0.5:
        return text + " · not climbing now"
    return text + f" · at this pace {end:.0f} % at the reset"


def _grid(frame: _Frame, local: _Localizer) -> str:
    lines = []
    for percent in range(0, int(frame.top_percent) + 1, 25):
        y = frame.y(percent)
        lines.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y:.1f}"/><text x="{LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{percent} %</text>'
        )
    day = local(frame.start).replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= local(frame.end):
        if day >= local(frame.start):
            x = frame.x(day)
            lines.append(
                f'<line class="day" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" '
                f'y2="{HEIGHT - BOTTOM}"/><text x="{x + 4:.1f}" '
                f'y="{HEIGHT - BOTTOM + 16}">{_esc(day.strftime("%a %d"))}</text>'
            )
        # Through a daylight-saving change a day is not 24 hours: land on the next midnight.
        day = local(day + timedelta(hours=26)).replace(hour=0)
    return "\n".join(lines)


def _thresholds(frame: _Frame, thresholds: tuple[float, ...]) -> list[str]:
    marks = []
    shown = sorted(t for t in thresholds if 0 < t <= frame.top_percent)
    for i, percent in enumerate(shown):
        # The highest threshold is the critical one (95 %), those below it warnings (80 %).
        css = "crit" if i == len(shown) - 1 and i > 0 else "warn"
        y = frame.y(percent)
        marks.append(
            f'<line class="{css}" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y:.1f}"/><text class="{css}" x="{WIDTH - RIGHT + 6}" '
            f'y="{y + 4:.1f}">{percent:g} %</text>'
        )
    return marks


def _reset_mark(frame: _Frame, moment: datetime) -> str:
    # The upcoming reset's time is in the summary above the chart: no label to collide with "now".
    x = frame.x(moment)
    return f'<line class="reset" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}"/>'


def _usage_paths(frame: _Frame, points: list[tuple[datetime, float]]) -> list[str]:
    """One line (and the area under it) per stretch watched without a gap."""
    runs: list[list[tuple[datetime, float]]] = []
    for at, percent in points:
        if not runs or at - runs[-1][-1][0] > GAP:
            runs.append([])
        runs[-1].append((at, percent))
    paths = []
    base = frame.y(0)
    for run in runs:
        coords = " ".join(f"{frame.x(t):.1f},{frame.y(p):.1f}" for t, p in run)
        if len(run) == 1:
            ((t, p),) = run
            paths.append(f'<circle class="use" cx="{frame.x(t):.1f}" cy="{frame.y(p):.1f}" r="2"/>')
            continue
        x0, x1 = frame.x(run[0][0]), frame.x(run[-1][0])
        paths.append(
            f'<polygon class="area" points="{x0:.1f},{base:.1f} {coords} {x1:.1f},{base:.1f}"/>'
        )
        paths.append(f'<polyline class="use" points="{coords}"/>')
    return paths


def _local(tz: tzinfo | None) -> _Localizer:
    def local(moment: datetime) -> datetime:
        return moment.astimezone(tz)

    return local


def _when(moment: datetime, local: _Localizer) -> str:
    return local(moment).strftime("%a %H:%M")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
