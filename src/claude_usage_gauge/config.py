"""The settings file (TOML) and its defaults.

Read with the standard library's tomllib; written (only for menu toggles) as flat `key = value`
lines, which is all the file ever holds. A broken file never stops the app: defaults are used and
the problem is reported once.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from claude_usage_gauge.core.settings import (
    DEFAULT_API_BASE,
    ICON_STYLES,
    MIN_POLL_INTERVAL,
    Settings,
)
from claude_usage_gauge.core.staleness import DEFAULT_POLL_INTERVAL

API_BASE_ENV = "CLAUDE_USAGE_GAUGE_API_BASE"
# A settings file is a few lines; anything larger is not one.
MAX_SETTINGS_BYTES = 256 * 1024

_WRITABLE = (
    "poll_interval",
    "api_base",
    "warn_percent",
    "critical_percent",
    "notifications",
    "notify_percents",
    "icon_style",
)


def _as_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `path` (missing is fine) with the API base overridable from the environment."""
    import tomllib

    env = os.environ if environ is None else environ
    problems: list[str] = []
    raw: dict[str, object] = {}
    from claude_usage_gauge.files import read_regular

    try:
        # Only a regular file of ours: another user's file could send the token elsewhere
        # (api_base), and a pipe at this path would hang every command.
        raw = tomllib.loads(read_regular(path, MAX_SETTINGS_BYTES, ours=True).decode("utf-8"))
    except FileNotFoundError:
        pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        problems.append(f"settings file {path} could not be read ({reason}); using defaults")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"settings file {path} could not be read ({exc}); using defaults")
    settings, found = _validated(raw)
    from claude_usage_gauge.account_settings import accounts_from_raw

    accounts, bad_accounts = accounts_from_raw(raw.get("accounts"), env)
    settings = replace(settings, accounts=accounts)
    found += bad_accounts
    env_base = env.get(API_BASE_ENV)
    if env_base:
        settings = replace(settings, api_base=env_base, api_base_from_env=True)
    return replace(settings, problems=tuple(problems + found))


def _validated(raw: Mapping[str, object]) -> tuple[Settings, list[str]]:
    """Settings from raw values, each bad one replaced by its default with a problem noted."""
    problems: list[str] = []
    defaults = Settings()
    interval = _as_float(raw.get("poll_interval", defaults.poll_interval))
    if interval is None:
        problems.append("poll_interval must be a number of seconds; using 180")
        interval = DEFAULT_POLL_INTERVAL
    if interval < MIN_POLL_INTERVAL:
        problems.append(f"poll_interval {interval:g} is below the minimum of 60 s; using 60")
        interval = MIN_POLL_INTERVAL

    api_base = raw.get("api_base", DEFAULT_API_BASE)
    if not isinstance(api_base, str):
        problems.append("api_base must be a string; using the default")
        api_base = DEFAULT_API_BASE

    warn = _as_float(raw.get("warn_percent", defaults.warn_percent))
    critical = _as_float(raw.get("critical_percent", defaults.critical_percent))
    if warn is None or critical is None or not 0 < warn < critical <= 100:
        problems.append("warn_percent and critical_percent must satisfy 0 < warn < critical <= 100")
        warn, critical = defaults.warn_percent, defaults.critical_percent

    notifications = raw.get("notifications", True)
    if not isinstance(notifications, bool):
        problems.append("notifications must be true or false")
        notifications = True

    raw_percents = raw.get("notify_percents", list(defaults.notify_percents))
    percents: list[float] = []
    if isinstance(raw_percents, list | tuple):
        for item in raw_percents:
            value = _as_float(item)
            if value is not None and 0 < value <= 100:
                percents.append(value)
    if not percents:
        problems.append("notify_percents must be a list of percents; using 80 and 95")
        percents = list(defaults.notify_percents)

    icon_style = raw.get("icon_style", "auto")
    if icon_style not in ICON_STYLES:
        problems.append('icon_style must be "auto", "color" or "mono"; using "auto"')
        icon_style = "auto"

    settings = Settings(
        icon_style=str(icon_style),
        poll_interval=interval,
        api_base=api_base,
        warn_percent=warn,
        critical_percent=critical,
        notifications=notifications,
        notify_percents=tuple(sorted(set(percents))),
    )
    return settings, problems


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        # Basic-string escapes: quote, backslash and every control character as \uXXXX.
        escaped = "".join(
            f"\\u{ord(c):04x}" if c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F else c
            for c in value
        )
        return f'"{escaped}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to the settings file")


# For the `[[accounts]]` writer, which writes values the same way.
toml_value = _toml_value


def save_setting(path: Path, settings: Settings, **changes: object) -> Settings:
    """Persist changed settings (from the menu) and return the new Settings.

    Only the changed keys' lines are rewritten (or appended): the user's comments, other keys,
    and an api_base that the environment overrides for now all stay in the file as written.
    A bad value, or a file that is not valid TOML, raises ValueError and nothing is written.
    """
    import tomllib

    from claude_usage_gauge.files import read_regular, write_private_file

    unknown = set(changes) - set(_WRITABLE)
    if unknown:
        raise KeyError(f"not a setting: {', '.join(sorted(unknown))}")
    candidate = {name: getattr(settings, name) for name in _WRITABLE} | changes
    checked, problems = _validated(candidate)
    if problems:
        raise ValueError("; ".join(problems))
    try:
        text = read_regular(path, MAX_SETTINGS_BYTES, ours=True).decode("utf-8")
    except FileNotFoundError:
        text = "# claude-usage-gauge settings (see README)\n"
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text; it was left as it is") from exc
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML ({exc}); it was left as it is") from exc
    # Top-level keys live before the first table (`[[accounts]]`): a key written after it
    # would belong to that table.
    table = re.search(r"^[ \t]*\[", text, re.MULTILINE)
    top, tables = (text[: table.start()], text[table.start() :]) if table else (text, "")
    for name in changes:
        line = f"{name} = {_toml_value(getattr(checked, name))}"
        pattern = re.compile(rf"^[ \t]*{re.escape(name)}[ \t]*=.*$", re.MULTILINE)
        # The replacement is literal text: a function, so backslashes in it are not re escapes.
        top, found = pattern.subn(_literal(line), top, count=1)
        if not found:
            top = (top.rstrip("\n") + "\n" if top.strip() else top) + line + "\n"
    text = top + tables
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # e.g. a key the user spread over several lines
        raise ValueError(f"{path} could not be updated ({exc}); edit it by hand") from exc
    write_private_file(path, text.encode("utf-8"))
    from_env = settings.api_base_from_env and "api_base" not in changes
    return replace(
        checked,
        api_base=settings.api_base if from_env else checked.api_base,
        api_base_from_env=from_env,
        problems=settings.problems,
        accounts=settings.accounts,
    )


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    return lambda _match: text
