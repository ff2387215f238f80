"""The hooks wing: the command Claude Code runs when a turn ends, and its installer.

Light like the statusline bridge: the hook command loads only the standard library's
os/sys/time, the light core helpers and its own small modules, writes one small file, prints
nothing and always exits 0."""
