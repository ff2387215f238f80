"""Reusable fakes for the tests, the benchmarks and `--demo`: the loopback fake of the usage API
(`fake_api`), a fake Keychain (`fake_keychain`), what Claude Code writes (`claude_code`) and a
real tray host under Xvfb (`desktop`)."""
