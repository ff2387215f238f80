"""Which desktop notifications a change of view deserves. Pure: views in, notices out.

Once per crossing, never every poll: a `NoticeMemory` remembers the highest threshold already
announced per window and the problem kind already announced. The first view after start-up only
sets the memory, so a restart does not repeat what the user was already told.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from claude_usage_gauge.core.errors import ErrorKind
from claude_usage_gauge.core.guidance import headline
from claude_usage_gauge.core.text import clean
from claude_usage_gauge.core.view import View, error_line

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


def _crossed(percent: float, thresholds: tuple[float, ...]) -> float:
    return max((t for t in thresholds if percent >= t), default=0.0)


def notices_for(
    view: View, memory: NoticeMemory, thresholds: tuple[float, ...]
) -> tuple[list[Notice], NoticeMemory]:
    out: list[Notice] = []
    announced = dict(memory.announced)
    last_percent = dict(memory.last_percent)

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
        if level > announced.get(window.id, 0.0):
            if memory.started:
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
        last_percent[window.id] = window.percent

    kind = view.error.kind if view.error is not None else None
    problem = memory.problem
    # Problems worth interrupting for (ErrorKind.announced); passing network blips are not.
    if kind is not None and kind.announced and kind != memory.problem and view.error is not None:
        if memory.started:
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
        memory, started=True, announced=announced, last_percent=last_percent, problem=problem
    )
