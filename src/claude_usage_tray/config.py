"""The settings file (TOML) and its defaults.

Read with the standard library's tomllib; written (only for menu toggles) as flat `key = value`
lines, which is all the file ever holds. A broken file never stops the app: defaults are used and
the problem is reported once.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

DEFAULT_API_BASE = "https://api.anthropic.com"
API_BASE_ENV = "CLAUDE_USAGE_TRAY_API_BASE"
MIN_POLL_INTERVAL = 60.0
DEFAULT_POLL_INTERVAL = 180.0


@dataclass(frozen=True, slots=True)
class Settings:
    poll_interval: float = DEFAULT_POLL_INTERVAL
    api_base: str = DEFAULT_API_BASE
    # Gauge colours: below `warn_percent` fine, up to `critical_percent` a warning, then critical.
    warn_percent: float = 75.0
    critical_percent: float = 90.0
    notifications: bool = True
    notify_percents: tuple[float, ...] = (80.0, 95.0)
    # Problems found while reading the file; shown by `doctor` and logged, never fatal.
    problems: tuple[str, ...] = field(default=(), compare=False)


_WRITABLE = (
    "poll_interval",
    "api_base",
    "warn_percent",
    "critical_percent",
    "notifications",
    "notify_percents",
)


def _as_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def load_settings(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Settings from `path` (missing is fine) with the API base overridable from the environment."""
    import tomllib

    env = os.environ if environ is None else environ
    problems: list[str] = []
    raw: dict[str, object] = {}
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        pass
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"settings file {path} could not be read ({exc}); using defaults")

    settings = Settings()
    interval = _as_float(raw.get("poll_interval", settings.poll_interval))
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
    api_base = env.get(API_BASE_ENV) or api_base

    warn = _as_float(raw.get("warn_percent", settings.warn_percent))
    critical = _as_float(raw.get("critical_percent", settings.critical_percent))
    if warn is None or critical is None or not 0 < warn < critical <= 100:
        if "warn_percent" in raw or "critical_percent" in raw:
            problems.append(
                "warn_percent and critical_percent must satisfy 0 < warn < critical <= 100"
            )
        warn, critical = settings.warn_percent, settings.critical_percent

    notifications = raw.get("notifications", True)
    if not isinstance(notifications, bool):
        problems.append("notifications must be true or false")
        notifications = True

    raw_percents = raw.get("notify_percents", list(settings.notify_percents))
    percents: list[float] = []
    if isinstance(raw_percents, list):
        for item in raw_percents:
            value = _as_float(item)
            if value is not None and 0 < value <= 100:
                percents.append(value)
    if not percents:
        problems.append("notify_percents must be a list of percents; using 80 and 95")
        percents = list(settings.notify_percents)

    return Settings(
        poll_interval=interval,
        api_base=api_base,
        warn_percent=warn,
        critical_percent=critical,
        notifications=notifications,
        notify_percents=tuple(sorted(set(percents))),
        problems=tuple(problems),
    )


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to the settings file")


def save_setting(path: Path, settings: Settings, **changes: object) -> Settings:
    """Persist one or more changed settings (from the menu) and return the new Settings."""
    from claude_usage_tray.paths import write_private_file

    unknown = set(changes) - set(_WRITABLE)
    if unknown:
        raise KeyError(f"not a setting: {', '.join(sorted(unknown))}")
    updated = replace(settings, **changes)  # type: ignore[arg-type]
    defaults = Settings()
    names = [f.name for f in fields(Settings) if f.name in _WRITABLE]
    lines = ["# claude-usage-tray settings (see README); written by the app on menu changes"]
    for name in names:
        value = getattr(updated, name)
        # The API base from the environment is not written back: it is the environment's.
        if name == "api_base" and value == os.environ.get(API_BASE_ENV):
            continue
        if value != getattr(defaults, name):
            lines.append(f"{name} = {_toml_value(value)}")
    write_private_file(path, ("\n".join(lines) + "\n").encode())
    return updated
