"""`claude-usage-gauge doctor`: where everything is and what is wrong, in plain lines.

Never prints a token: only its masked form (prefix and length).
"""

from __future__ import annotations

from datetime import timedelta

from claude_usage_gauge import __version__
from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.text import clean
from claude_usage_gauge.logs import mask_secrets
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.sources.claude_home import LONG_LIVED_TOKEN_ENV, ClaudeHome
from claude_usage_gauge.sources.keychain import SecretStore


def report(
    paths: AppPaths, home: ClaudeHome, settings: Settings, secret_store: SecretStore | None
) -> list[str]:
    from claude_usage_gauge.core.guidance import headline, help_steps
    from claude_usage_gauge.core.view import duration, unsaid
    from claude_usage_gauge.desktop.tray_backend import probe_backend
    from claude_usage_gauge.local_time import clock, stamp
    from claude_usage_gauge.refresh import Refresher, utc_now
    from claude_usage_gauge.sources.credentials import (
        check_usable,
        credentials_signature,
        read_credentials,
        token_fingerprint,
    )
    from claude_usage_gauge.store import Store

    now = utc_now()
    lines = [f"claude-usage-gauge {__version__}", ""]

    lines.append("Credentials")
    token_fp: str | None = None
    signed_in = False  # the sign-in reads fine and is usable now
    store = Store.for_home(paths, home)
    state = store.read()
    try:
        creds = read_credentials(home, secret_store)
    except UsageError as exc:
        lines.append(f"  not usable: {exc.message}")
        lines.append(f"  looked in: {home.credentials_file}")
    else:
        lines.append(f"  found in: {creds.location}")
        lines.append(f"  token: {creds.masked_token()}")
        if creds.expires_at is not None:
            left = creds.expires_at - now
            when = stamp(creds.expires_at)
            lines.append(
                f"  expires: {when} (in {duration(left)})"
                if left > timedelta(0)
                else f"  expired: {when}"
            )
        # The credentials' own words: shown safe and short (core.text).
        scopes = clean(" ".join(creds.scopes), 200) if creds.scopes is not None else None
        lines.append(f"  scopes: {scopes if scopes is not None else '(not listed)'}")
        plan = clean(creds.subscription_type or "unknown")
        tier = f" (tier {clean(creds.rate_limit_tier)})" if creds.rate_limit_tier else ""
        lines.append(f"  plan: {plan}{tier}")
        try:
            check_usable(creds, now)
            lines.append("  usable: yes")
            signed_in = True
        except UsageError as exc:
            lines.append(f"  usable: no — {exc.message}")
        if state.salt:
            token_fp = token_fingerprint(creds.access_token, state.salt)
    if home.long_lived_token_set:
        note = f"{LONG_LIVED_TOKEN_ENV} is set; that kind of token cannot read usage."
        lines.append(f"  note: {note}")

    lines += ["", "Settings"]
    refused = _settings_lines(lines, paths, settings)

    lines += ["", "Usage service"]
    if token_fp is not None:
        refresher = Refresher(store, settings, home, secret_store)
        signature = credentials_signature(home, secret_store)
        decision = refresher.decide(state, token_fp, now, signature)
        when = (
            "now"
            if decision.allows(now)
            else ("when the credentials change" if decision.at is None else clock(decision.at, now))
        )
        reason = f" ({decision.reason})"
        if refused is not None:
            when, reason = "none until the API address is fixed", ""
        lines.append(f"  next request: {when}{reason}")
    if state.snapshot is not None:
        lines.append(
            f"  last usage: {stamp(state.snapshot.fetched_at)} from {state.snapshot.source}"
        )
    problem = state.last_error
    settings_problem = problem is not None and problem.kind == ErrorKind.CONFIG
    fixed = refused is None if settings_problem else signed_in
    if problem is not None and problem.kind.found_locally and fixed:
        # Found on this machine and fixed since: the next refresh forgets it (the state file
        # still holds it until then), so it is not shown as if it stood.
        what = "settings problem" if settings_problem else "sign-in problem"
        lines.append(f"  last error: none (an earlier {what} is fixed since)")
    elif problem is not None and settings_problem and problem.message == refused:
        lines.append("  last error: Settings problem: the API base above is refused")
        lines += [f"    - {step}" for step in help_steps(problem.kind)]
    elif problem is not None:
        said = headline(problem, lambda moment: clock(moment, now))
        lines.append(f"  last error: {said}")
        message = unsaid(problem.message, said)  # only what the headline does not say
        if message:
            lines.append(f"    {message}")
        lines += [f"    - {step}" for step in help_steps(problem.kind)]
    else:
        lines.append("  last error: none")
    event = state.claude_code_event
    if event is not None:
        # Claude Code's own failure (its hook told us): not an error of ours, but what support
        # asks about, with the id of Claude Code's refused request.
        lines.append(
            f"  Claude Code: {clean(event.describe())} at {clock(event.at, now)}, "
            f"request id {clean(event.request_id) if event.request_id else '(none given)'}"
        )
        if event.out_of_extra_usage and (problem is None or problem.kind.found_locally):
            lines += [f"    - {step}" for step in help_steps(ErrorKind.OUT_OF_EXTRA_USAGE)]
    # Request ids are what support asks for; failures especially.
    for record in state.request_log[-3:]:
        retry = f", retry after {clock(record.retry_at, now)}" if record.retry_at else ""
        lines.append(
            f"  request {clock(record.at, now)}: {record.result}, "
            f"id {record.request_id or '(none given)'}{retry}"
        )

    lines += ["", "Files"]
    lines.append(f"  state: {paths.store_file}")
    lines.append(f"  logs: {paths.log_dir} (tray: {paths.log_file.name}, commands: cli.log)")
    lines.append(f"  credential backups: {paths.backups_dir}")
    for folder_problem in paths.folder_problems():
        lines.append(f"  folder problem: {folder_problem}")

    backend = probe_backend()
    lines += ["", "Tray"]
    lines.append(f"  backend: {backend.name} ({'menus' if backend.has_menu else 'no menus'})")
    if backend.reason:
        lines.append(f"  why: {backend.reason}")
    if backend.advice:
        lines.append(f"  advice: {backend.advice}")
    return lines


# Each setting: its name in the settings file, how doctor names it, how its value reads.
_SHOWN: tuple[tuple[str, str, str], ...] = (
    ("api_base", "API base", "{}"),
    ("poll_interval", "poll interval", "{:g} s"),
    ("warn_percent", "warn at", "{:g} %"),
    ("critical_percent", "critical at", "{:g} %"),
    ("notifications", "notifications", "{}"),
    ("notify_percents", "notify at", "{}"),
    ("icon_style", "icon style", "{}"),
)


def _settings_lines(lines: list[str], paths: AppPaths, settings: Settings) -> str | None:
    """Every setting, its value and where it came from, then the file's problems; appended to
    `lines`. Returns why the API address is refused, or None when it is accepted."""
    from claude_usage_gauge.config import (
        API_BASE_ENV,
        DEFAULT,
        FROM_ENV,
        FROM_FILE,
        setting_origins,
    )
    from claude_usage_gauge.sources.api_base import validate_api_base

    origins = setting_origins(paths.config_file, settings)
    refused: str | None = None
    try:
        validate_api_base(settings.api_base)
    except UsageError as exc:
        refused = exc.message
    exists = paths.config_file.exists()
    lines.append(f"  file: {paths.config_file}{'' if exists else ' (not there)'}")
    whence = {
        FROM_FILE: "from the settings file",
        FROM_ENV: f"from {API_BASE_ENV}, which wins over the settings file",
        DEFAULT: "default",
    }
    for name, label, shape in _SHOWN:
        value = getattr(settings, name)
        if name == "notify_percents":
            value = ", ".join(f"{p:g} %" for p in value)
        elif name == "notifications":
            value = "on" if value else "off"
        elif name == "api_base":
            # A password in the address (refused for use, but still in the settings) is not shown.
            value = mask_secrets(value)
        origin = whence.get(origins[name], f"the settings file's {name} is not usable, see below")
        if name == "api_base" and refused is not None:
            lines.append(f"  {label}: {shape.format(value)} ({origin}) — REFUSED")
            lines.append(f"    {refused} No request is made until it is fixed.")
            continue
        lines.append(f"  {label}: {shape.format(value)} ({origin})")
    for problem in settings.problems:
        lines.append(f"  settings problem: {problem}")
    return refused
