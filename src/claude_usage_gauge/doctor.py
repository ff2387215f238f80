"""`claude-usage-gauge doctor`: where everything is and what is wrong, in plain lines.

Never prints a token: only its masked form (prefix and length).
"""

from __future__ import annotations

from datetime import timedelta

from claude_usage_gauge import __version__
from claude_usage_gauge.core.errors import UsageError
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.text import clean
from claude_usage_gauge.logs import mask_secrets
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.sources.claude_home import LONG_LIVED_TOKEN_ENV, ClaudeHome
from claude_usage_gauge.sources.keychain import SecretStore


def report(
    paths: AppPaths, home: ClaudeHome, settings: Settings, secret_store: SecretStore | None
) -> list[str]:
    from claude_usage_gauge.core.guidance import clock, headline, help_steps
    from claude_usage_gauge.core.view import duration
    from claude_usage_gauge.desktop.tray_backend import probe_backend
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
            when = f"{creds.expires_at.astimezone():%Y-%m-%d %H:%M}"
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
        except UsageError as exc:
            lines.append(f"  usable: no — {exc.message}")
        if state.salt:
            token_fp = token_fingerprint(creds.access_token, state.salt)
    if home.long_lived_token_set:
        note = f"{LONG_LIVED_TOKEN_ENV} is set; that kind of token cannot read usage."
        lines.append(f"  note: {note}")

    lines += ["", "Usage service"]
    # A password in the address (refused for use, but still in the settings) is not shown.
    lines.append(f"  API base: {mask_secrets(settings.api_base)}")
    lines.append(f"  poll interval: {settings.poll_interval:g} s")
    if token_fp is not None:
        refresher = Refresher(store, settings, home, secret_store)
        signature = credentials_signature(home, secret_store)
        decision = refresher.decide(state, token_fp, now, signature)
        when = (
            "now"
            if decision.allows(now)
            else ("when the credentials change" if decision.at is None else clock(decision.at))
        )
        lines.append(f"  next request: {when} ({decision.reason})")
    if state.snapshot is not None:
        lines.append(
            f"  last usage: {state.snapshot.fetched_at.astimezone():%Y-%m-%d %H:%M} "
            f"from {state.snapshot.source}"
        )
    if state.last_error is not None:
        lines.append(f"  last error: {headline(state.last_error)}")
        lines.append(f"    {state.last_error.message}")
        lines += [f"    - {step}" for step in help_steps(state.last_error.kind)]
    else:
        lines.append("  last error: none")
    # Request ids are what support asks for; failures especially.
    for record in state.request_log[-3:]:
        retry = f", retry after {clock(record.retry_at)}" if record.retry_at else ""
        lines.append(
            f"  request {clock(record.at)}: {record.result}, "
            f"id {record.request_id or '(none given)'}{retry}"
        )

    lines += ["", "Files"]
    lines.append(f"  state: {paths.store_file}")
    lines.append(f"  settings: {paths.config_file}")
    lines.append(f"  logs: {paths.log_dir} (tray: {paths.log_file.name}, commands: cli.log)")
    lines.append(f"  credential backups: {paths.backups_dir}")
    for problem in settings.problems:
        lines.append(f"  settings problem: {problem}")
    for problem in paths.folder_problems():
        lines.append(f"  folder problem: {problem}")

    backend = probe_backend()
    lines += ["", "Tray"]
    lines.append(f"  backend: {backend.name} ({'menus' if backend.has_menu else 'no menus'})")
    if backend.reason:
        lines.append(f"  why: {backend.reason}")
    if backend.advice:
        lines.append(f"  advice: {backend.advice}")
    return lines
