"""What a process costs, from /proc (Linux): memory, CPU time, context switches per thread."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    # After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass(frozen=True)
class Switches:
    # thread id -> (voluntary, involuntary) context switches so far
    per_thread: dict[str, tuple[int, int]]

    @property
    def threads(self) -> int:
        return len(self.per_thread)

    def since(self, before: Switches) -> tuple[int, int]:
        """Switches made between two samples. A thread that ended meanwhile takes its count with
        it (so it cannot be subtracted); one that started counts from zero."""
        voluntary = involuntary = 0
        for tid, (vol, invol) in self.per_thread.items():
            vol0, invol0 = before.per_thread.get(tid, (0, 0))
            voluntary += vol - vol0
            involuntary += invol - invol0
        return voluntary, involuntary


def context_switches(pid: int) -> Switches:
    counts: dict[str, tuple[int, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            lines = (task / "status").read_text().splitlines()
        except OSError:  # the thread ended between the listing and the read
            continue
        voluntary = involuntary = 0
        for line in lines:
            if line.startswith("voluntary_ctxt_switches:"):
                voluntary = int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                involuntary = int(line.split()[1])
        counts[task.name] = (voluntary, involuntary)
    return Switches(counts)
