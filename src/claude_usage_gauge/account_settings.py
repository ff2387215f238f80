"""The `[[accounts]]` tables of the settings file: read and checked, and appended to.

Each table names one Claude Code installation the app watches:

    [[accounts]]
    name = "work"
    config_dir = "~/.claude-work"

A bad table is a settings problem (`doctor` shows it, the log has it), never fatal: it is left
out and the rest are used. Appending (`accounts discover --add`) adds text at the end of the file
and keeps every byte before it as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from claude_usage_gauge.core.settings import AccountSetting

# Short enough for a menu heading and a folder name, and safe in both.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
MAX_ACCOUNTS = 16
# A name is a folder name too (accounts/<name>/): Windows refuses these whatever the case.
_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
)


def expand_home(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`~` and `~/…` with the home Claude Code itself would use (HOME, USERPROFILE on Windows)."""
    env = os.environ if environ is None else environ
    if text != "~" and not text.startswith(("~/", "~\\")):
        return text
    names = ("USERPROFILE", "HOME") if os.name == "nt" else ("HOME",)
    home = next((env[name] for name in names if env.get(name)), None) or str(Path.home())
    return home + text[1:]


def accounts_from_raw(
    raw: object, environ: Mapping[str, str] | None = None
) -> tuple[tuple[AccountSetting, ...], list[str]]:
    """The valid accounts of the `accounts` key, in order, and a sentence per bad one."""
    if raw is None:
        return (), []
    if not isinstance(raw, list):
        return (), ["accounts must be [[accounts]] tables with a name and a config_dir; ignored"]
    accounts: list[AccountSetting] = []
    problems: list[str] = []
    names: set[str] = set()
    folders: set[str] = set()
    for number, table in enumerate(raw, 1):
        where = f"accounts entry {number}"
        if len(accounts) >= MAX_ACCOUNTS:
            problems.append(f"more than {MAX_ACCOUNTS} accounts; the rest are ignored")
            break
        if not isinstance(table, dict):
            problems.append(f"{where} is not a table with a name and a config_dir; ignored")
            continue
        name, folder = table.get("name"), table.get("config_dir")
        if (
            not isinstance(name, str)
            or NAME_PATTERN.fullmatch(name) is None
            or name.lower() in _DEVICE_NAMES
        ):
            problems.append(
                f"{where}: name must be 1 to 32 letters, digits, '-' or '_' (and not a device "
                "name such as CON or NUL); entry ignored"
            )
            continue
        if name in names:
            problems.append(f"{where}: the name {name!r} is used twice; entry ignored")
            continue
        if not isinstance(folder, str) or not folder.strip() or "\x00" in folder:
            problems.append(f"{where} ({name}): config_dir must be a folder path; entry ignored")
            continue
        expanded = expand_home(folder, environ)
        if not os.path.isabs(expanded):
            problems.append(
                f"{where} ({name}): config_dir must be an absolute path or start with ~; "
                "entry ignored"
            )
            continue
        key = os.path.normcase(os.path.normpath(expanded))
        if key in folders:
            problems.append(f"{where} ({name}): its config_dir is listed twice; entry ignored")
            continue
        names.add(name)
        folders.add(key)
        accounts.append(AccountSetting(name=name, config_dir=expanded))
    return tuple(accounts), problems


def accounts_text(accounts: Sequence[AccountSetting]) -> str:
    """`[[accounts]]` tables for these accounts, as appended to the settings file."""
    from claude_usage_gauge.config import toml_value

    return "".join(
        f"\n[[accounts]]\nname = {toml_value(a.name)}\nconfig_dir = {toml_value(a.config_dir)}\n"
        for a in accounts
    )


def append_accounts(path: Path, accounts: Sequence[AccountSetting]) -> None:
    """Add these tables at the end of the settings file; every byte before them is kept.

    Raises ValueError (nothing written) when the file is not valid TOML, or the result would
    not read back as exactly the accounts it had plus these; OSError when it cannot be written.
    """
    import tomllib

    from claude_usage_gauge.config import MAX_SETTINGS_BYTES
    from claude_usage_gauge.files import read_regular, write_private_file

    try:
        data = read_regular(path, MAX_SETTINGS_BYTES, ours=True)
    except FileNotFoundError:
        data = b"# claude-usage-gauge settings (see README)\n"
    try:
        before = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path} could not be read ({exc}); it was left as it is") from exc
    separator = b"" if not data or data.endswith(b"\n") else b"\n"
    new = data + separator + accounts_text(accounts).encode("utf-8")
    try:
        after = tomllib.loads(new.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:  # e.g. `accounts = …` already set as a plain key
        raise ValueError(f"{path} could not be extended ({exc}); add the accounts by hand") from exc
    had = before.get("accounts", [])
    expected = [*had, *({"name": a.name, "config_dir": a.config_dir} for a in accounts)]
    # A file that ends inside something else (an array of tables under another name, say)
    # would take the new tables elsewhere: check, and write nothing if so.
    if after.get("accounts") != expected or {k: v for k, v in after.items() if k != "accounts"} != {
        k: v for k, v in before.items() if k != "accounts"
    }:
        raise ValueError(f"{path} could not be extended safely; add the accounts by hand")
    write_private_file(path, new)
