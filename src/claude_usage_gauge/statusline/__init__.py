"""The statusline wing: the bridge Claude Code runs on every refresh, and its installer.

Kept light on purpose: the bridge imports only the standard library's os/sys/time and the
pure helpers it shares with the core."""
