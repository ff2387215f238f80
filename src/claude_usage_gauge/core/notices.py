"""Which desktop notifications a change of view deserves. Pure: views in, notices out.

Once per crossing, never every poll: a `NoticeMemory` remembers the highest threshold already
announced per window (with the reset moment of the period it was announced in) and the problem
kind already announced. The thresholds part outlives the process (`to_json`/`from_json`, kept by
the tray beside its state): a restart does not repeat a threshold already told for the window's
current period, while a first start at 97 % still tells it once. Problems and resets are only
told on a change seen while running: at start-up the icon and the menu show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from claude_usage_gauge.core.errors import ErrorKind
from claude_usage_gauge.core.guidance import headline
from claude_usage_gauge.core.history import SAME_RESET
from claude_usage_gauge.core.text import clean
from claude_usage_gauge.core.values import finite_number, parse_iso
from claude_usage_gauge.core.view import View, error_line

# Windows kept in the saved memory (more than the service has ever reported at once).
MAX_REMEMBERED_WINDOWS = 12

# A window counts as "nearly exhausted" (so its reset is news) from here.
NEARLY_EXHAUSTED = 90.0


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    message: str
    # Notices of one topic replace each other on the desktop; other topics stay up beside them.
    topic: str = "usage"


@dataclass(frozen=True, slots=True)
class NoticeMemory:
    started: bool = False
    # window id -> highest threshold announced in its current period
    announced: dict[str, float] = field(default_factory=dict)
    # window id -> last percent seen (to spot a reset)
    last_percent: dict[str, float] = field(default_factory=dict)
    problem: ErrorKind | None = None
    # window id -> when the period its announcement belongs to resets (None: not announced)
    period: dict[str, datetime | None] = field(default_factory=dict)
    # Until then, a missing sign-in is the user's own doing (a reset from the menu, whose
    # confirmation already says to sign in again), not news: it is not announced.
    sign_out_chosen_until: datetime | None = None

    def expecting_sign_out(self, until: datetime) -> NoticeMemory:
        """The user just moved the sign-in aside: do not alarm them about it until `until`."""
        return replace(self, sign_out_chosen_until=until)

    def to_json(self) -> dict[str, object]:
        """What a restart needs so as not to repeat a threshold already told this period."""
        return {
            window: {
                "announced": level,
                "period": _iso(self.period.get(window)),
                "last_percent": self.last_percent.get(window),
            }
            for window, level in self.announced.items()
        }

    @classmethod
    def from_json(cls, raw: object) -> NoticeMemory:
        """The saved memory, not yet `started`; anything unreadable is forgotten (then a
        threshold may be told once more, never missed)."""
        announced: dict[str, float] = {}
        period: dict[str, datetime | None] = {}
        last_percent: dict[str, float] = {}
        items = list(raw.items())[:MAX_REMEMBERED_WINDOWS] if isinstance(raw, dict) else []
        for window, entry in items:
            if not isinstance(window, str) or not isinstance(entry, dict):
                continue
            level = finite_number(entry.get("announced"))
            if level is None:
                continue
            announced[window] = level
            period[window] = parse_iso(entry.get("period"))
            percent = finite_number(entry.get("last_percent"))
            if percent is not None:
                last_percent[window] = percent
        return cls(announced=announced, last_percent=last_percent, period=period)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _new_period(announced_in: datetime | None, resets_at: datetime | None) -> bool:
    """The window now resets at another moment than when its threshold was told: a new period
    (the service re-announces one reset with another fraction of a second: not new)."""
    if announced_in is None or resets_at is None:
        return False
    return abs(resets_at - announced_in) >= SAME_RESET


def _crossed(percent: float, thresholds: tuple[float, ...]) -> float:
    return max((t for t in thresholds if percent >= t), default=0.0)


def notices_for(
    view: View,
    memory: NoticeMemory,
    thresholds: tuple[float, ...],
    now: datetime | None = None,
) -> tuple[list[Notice], NoticeMemory]:
    out: list[Notice] = []
    announced = dict(memory.announced)
    last_percent = dict(memory.last_percent)
    period = dict(memory.period)

    for window in view.windows:
        level = _crossed(window.percent, thresholds)
        before = last_percent.get(window.id)
        if (
            before is not None
            and window.percent < before
            and window.percent < min(thresholds, default=0)
        ):
            # The window reset (or dropped below every threshold): a new period begins.
            if memory.started and before >= NEARLY_EXHAUSTED:
                out.append(
                    Notice(
                        f"{clean(window.label)} has reset",
                        f"Now at {window.percent:.0f} %.",
                        f"reset:{window.id}",
                    )
                )
            announced.pop(window.id, None)
        elif window.id in announced and _new_period(period.get(window.id), window.resets_at):
            # It reset while nobody looked (the tray was not running) and is up again.
            announced.pop(window.id, None)
        if level > announced.get(window.id, 0.0):
            # Told at start-up too: the saved memory already holds what an earlier run told.
            when = ""
            if window.resets_at is not None:
                from claude_usage_gauge.core.guidance import clock

                when = f"; resets {clock(window.resets_at)}"
            out.append(
                Notice(
                    f"{clean(window.label)} at {window.percent:.0f} %",
                    f"Past {level:g} %{when}.",
                    f"threshold:{window.id}",
                )
            )
            announced[window.id] = level
            period[window.id] = window.resets_at
        elif window.id in announced and period.get(window.id) is None:
            period[window.id] = window.resets_at
        last_percent[window.id] = window.percent

    kind = view.error.kind if view.error is not None else None
    problem = memory.problem
    chosen_until = memory.sign_out_chosen_until
    if chosen_until is not None and (now is None or now > chosen_until):
        chosen_until = None
    # Problems worth interrupting for (ErrorKind.announced); passing network blips are not.
    if kind is not None and kind.announced and kind != memory.problem and view.error is not None:
        if kind == ErrorKind.NO_CREDENTIALS and chosen_until is not None:
            chosen_until = None  # the user's own choice, already explained: once only
        elif memory.started:
            title = (
                "Claude Code is refused"
                if kind == ErrorKind.OUT_OF_EXTRA_USAGE
                else "Claude usage cannot be read"
            )
            out.append(Notice(title, error_line(view) or headline(view.error), "problem"))
        problem = kind
    elif kind is None and memory.problem is not None and view.usage is not None:
        if memory.started:
            out.append(
                Notice("Claude usage is readable again", "The numbers are current.", "problem")
            )
        problem = None

    return out, replace(
        memory,
        started=True,
        announced=announced,
        last_percent=last_percent,
        problem=problem,
        period={k: period.get(k) for k in announced},
        sign_out_chosen_until=chosen_until,
    )
