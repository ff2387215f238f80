"""What every platform's start-at-login entry can do and report, independent of where it lives."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from claude_usage_gauge.files import read_regular, write_atomically

# Our entries are a few hundred bytes; anything much larger at the path is not one of ours.
MAX_ENTRY_BYTES = 64 * 1024


class AutostartState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    # An entry of ours exists but is not the one this program writes (an old install, a moved
    # bundle, or turned off by hand): enabling again rewrites it.
    DIFFERENT = "different"


@dataclass(frozen=True)
class AutostartStatus:
    state: AutostartState
    location: str  # where the entry lives (a file, or a registry key and value name)
    detail: str  # one plain sentence for people


class Autostart(ABC):
    """One platform's entry that starts `command` when the user logs in.

    Its status compares the entry that is there with the one this program would write, instead
    of reading entries back with a parser of their format: an entry that differs in any way is
    one that `enable` should rewrite.
    """

    def __init__(self, command: list[str]) -> None:
        if not command:
            raise ValueError("the autostart command must not be empty")
        self.command = list(command)

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the entry lives, for people."""

    @abstractmethod
    def entry(self) -> str:
        """The entry this program writes, to start `command`."""

    @abstractmethod
    def _read(self) -> str | None:
        """The entry that is there, or None when there is none. Raises OSError."""

    @abstractmethod
    def _write(self, entry: str) -> None:
        """Create or replace the entry. Raises OSError when it cannot."""

    @abstractmethod
    def disable(self) -> AutostartStatus:
        """Remove our entry, and nothing else. Raises OSError when it cannot."""

    def enable(self) -> AutostartStatus:
        """Create or repair the entry so it runs `command`. Raises OSError when it cannot."""
        self._write(self.entry())
        return self.status()

    def status(self) -> AutostartStatus:
        """Look at the entry without changing anything. Raises OSError when it cannot be read."""
        found = self._read()
        if found is None:
            return self._absent()
        if found == self.entry():
            return AutostartStatus(
                AutostartState.ENABLED, self.location, f"It starts {_shown(self.command)}."
            )
        return AutostartStatus(
            AutostartState.DIFFERENT,
            self.location,
            "There is an entry, but not the one this program writes: it may start another "
            "copy, or be turned off.",
        )

    def _absent(self, detail: str = "There is no entry.") -> AutostartStatus:
        return AutostartStatus(AutostartState.DISABLED, self.location, detail)


class FileAutostart(Autostart):
    """An entry that is one file of ours (XDG .desktop, LaunchAgent plist)."""

    def __init__(self, command: list[str], path: Path) -> None:
        super().__init__(command)
        self.path = path

    @property
    def location(self) -> str:
        return str(self.path)

    def _read(self) -> str | None:
        # Only a regular file of sane size: a named pipe put at this path would block a plain
        # read forever, and status is asked every time the menu opens.
        try:
            data = read_regular(self.path, MAX_ENTRY_BYTES)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return data.decode("utf-8", errors="replace")

    def _write(self, entry: str) -> None:
        write_shared_file(self.path, entry.encode("utf-8"))

    def disable(self) -> AutostartStatus:
        if remove_file(self.path):
            return self._absent("The entry was removed.")
        return self._absent("There was no entry to remove.")


def _shown(command: list[str]) -> str:
    """A command for people; arguments with spaces in quotes so the split stays visible."""
    return " ".join(arg if arg and " " not in arg else f'"{arg}"' for arg in command)


# Folders made on the way (~/.config, autostart/, LaunchAgents/) get this mode whatever the
# umask: 0700, as the XDG base directory spec asks of a config home made for the user.
NEW_FOLDER_MODE = 0o700


def write_shared_file(path: Path, data: bytes) -> None:
    """Write atomically with mode 0644: login entries are read by the session, and hold no secret.

    Missing folders are made with an explicit mode: with `umask 000` a plain mkdir made
    ~/.config and its autostart/ 0777, writable by every user on the machine.
    """
    make_folders(path.parent, NEW_FOLDER_MODE)
    write_atomically(path, data, mode=0o644)


def make_folders(folder: Path, mode: int) -> None:
    """Make `folder` and its missing parents, each with exactly `mode`; existing ones are left."""
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for each in reversed(missing):
        try:
            each.mkdir(mode)
        except FileExistsError:
            continue  # made meanwhile: not ours to change
        if os.name == "posix":
            os.chmod(each, mode)  # mkdir's mode went through the umask


def remove_file(path: Path) -> bool:
    """Remove `path`; False when it was not there."""
    try:
        path.unlink()
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True
