"""`doctor --report` and the menu's "Copy a report": gather the facts, build the text (pure, in
core/report.py), and hand it over — to the clipboard where a clipboard tool exists, else to a
private file whose place is said."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime

from claude_usage_gauge import __version__
from claude_usage_gauge.core.errors import UsageError
from claude_usage_gauge.core.report import ReportFacts, build_report, utc, without_home
from claude_usage_gauge.core.schedule import Decision
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.view import ago, build_view
from claude_usage_gauge.files import write_private_file
from claude_usage_gauge.refresh import Refresher
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.keychain import SecretStore
from claude_usage_gauge.store import Store

REPORT_FILE_NAME = "report.txt"
# Clipboard tools, by platform, each reading the text on stdin.
_CLIPBOARDS = {
    "linux": (("wl-copy",), ("xclip", "-selection", "clipboard"), ("xsel", "--clipboard", "-i")),
    "darwin": (("pbcopy",),),
    "win32": (("clip",),),
}


def decision_words(decision: Decision, now: datetime) -> str:
    """The schedule's answer for the report: 'now (due)', '… 14:35:00 UTC (rate limited)', …"""
    if decision.allows(now):
        return f"now ({decision.reason})"
    if decision.at is None:
        return f"when the credentials change ({decision.reason})"
    return f"{utc(decision.at)} ({decision.reason})"


def gather_report(
    store: Store,
    home: ClaudeHome,
    *,
    settings: Settings,
    secret_store: SecretStore | None,
    tray: str,
    now: datetime,
) -> str:
    from claude_usage_gauge.sources.credentials import (
        credentials_signature,
        read_credentials,
        token_fingerprint,
    )

    state = store.read()
    plan: str | None = None
    next_request = "unknown: no usable sign-in"
    try:
        creds = read_credentials(home, secret_store)
    except UsageError as exc:
        next_request = f"none until a sign-in is found ({exc.kind.value})"
    else:
        plan = creds.subscription_type
        if state.salt:
            refresher = Refresher(store, settings, home, secret_store)
            fingerprint = token_fingerprint(creds.access_token, state.salt)
            signature = credentials_signature(home, secret_store)
            next_request = decision_words(refresher.decide(state, fingerprint, now, signature), now)
    facts = ReportFacts(
        version=__version__,
        python=platform.python_version(),
        system=platform.platform(),
        plan=plan,
        tray=tray,
        next_request=next_request,
        sources=source_lines(store, state, now),
    )
    view = build_view(state, now, settings)
    text = build_report(view, now, facts, state.request_log)
    return without_home(text, os.path.expanduser("~"))


def source_lines(store: Store, state: State, now: datetime) -> tuple[str, ...]:
    """How fresh each source of numbers is (no paths: they would name the user)."""
    lines = []
    snapshot = state.snapshot
    lines.append(
        f"shown numbers: from {snapshot.source}, {ago(snapshot.fetched_at, now)}"
        if snapshot is not None
        else "shown numbers: none"
    )
    for name, path in (
        ("statusline bridge file", store.paths.bridge_file),
        ("Claude Code's state file (its /usage cache)", store.claude_cache.path)
        if store.claude_cache is not None
        else ("Claude Code's state file", None),
    ):
        if path is None:
            continue
        try:
            changed = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        except (OSError, ValueError, OverflowError):
            lines.append(f"{name}: absent")
            continue
        lines.append(f"{name}: changed {ago(changed, now)}")
    cached = store.claude_cache.read(now) if store.claude_cache is not None else None
    lines.append(
        f"Claude Code's /usage cache: fetched {ago(cached.fetched_at, now)}"
        if cached is not None
        else "Claude Code's /usage cache: none under an hour old"
    )
    return tuple(lines)


def hand_over(text: str, state_dir: os.PathLike[str] | str) -> str:
    """Put the report on the clipboard, or in a private file; one sentence saying where."""
    for command in _CLIPBOARDS.get(sys.platform, ()):
        if shutil.which(command[0]) is None:
            continue
        try:
            done = subprocess.run(
                command, input=text.encode(), capture_output=True, timeout=5, check=False
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return f"The report is on the clipboard ({command[0]}); paste it into your bug report."
    from pathlib import Path

    path = Path(state_dir) / REPORT_FILE_NAME
    write_private_file(path, text.encode())
    return f"The report is in {path}; attach it to your bug report."
