"""Readers of the world: Claude Code's sign-in, the usage API, Claude Code's own files."""
