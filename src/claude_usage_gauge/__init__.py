"""claude-usage-gauge: a tray gauge of a Claude subscriber's 5-hour and weekly usage."""

# Kept as a literal (not importlib.metadata) so the statusline path starts fast.
__version__ = "0.1.0"

APP_NAME = "claude-usage-gauge"
