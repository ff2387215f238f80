"""The settings as a value, with their defaults and bounds. Reading and writing the settings file
is the shell's job (`claude_usage_gauge.config`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from claude_usage_gauge.core.staleness import DEFAULT_POLL_INTERVAL

DEFAULT_API_BASE = "https://api.anthropic.com"
MIN_POLL_INTERVAL = 60.0
ICON_STYLES = ("auto", "color", "mono")


@dataclass(frozen=True, slots=True)
class AccountSetting:
    """One `[[accounts]]` table: a short name and the Claude Code config dir it watches."""

    name: str
    config_dir: str  # `~` already expanded


@dataclass(frozen=True, slots=True)
class Settings:
    poll_interval: float = DEFAULT_POLL_INTERVAL
    api_base: str = DEFAULT_API_BASE
    # Gauge colours: below `warn_percent` fine, up to `critical_percent` a warning, then critical.
    warn_percent: float = 75.0
    critical_percent: float = 90.0
    notifications: bool = True
    notify_percents: tuple[float, ...] = (80.0, 95.0)
    # "auto": a monochrome template icon in the macOS menu bar (it follows light/dark mode),
    # the coloured gauge elsewhere; "color" or "mono" force one everywhere.
    icon_style: str = "auto"
    # True when api_base came from CLAUDE_USAGE_GAUGE_API_BASE (then it is never saved to the file).
    api_base_from_env: bool = field(default=False, compare=False)
    # The `[[accounts]]` tables, valid ones only, in the file's order (the first is the primary);
    # empty: one account, the Claude Code installation the environment names.
    accounts: tuple[AccountSetting, ...] = ()
    # Problems found while reading the file; shown by `doctor` and logged, never fatal.
    problems: tuple[str, ...] = field(default=(), compare=False)
