"""Make the Debian package from the Linux bundle that scripts/package built.

    .venv/bin/python packaging/make_deb.py [dist/claude-usage-gauge] [--out dist]

Writes dist/claude-usage-gauge_<version>_<arch>.deb with dpkg-deb. What it installs:

    /usr/lib/claude-usage-gauge/                       the PyInstaller bundle, as built
    /usr/bin/claude-usage-gauge                        a relative link to the program in it
    /usr/share/applications/claude-usage-gauge.desktop the menu entry
    /usr/share/icons/hicolor/<size>/apps/claude-usage-gauge.png
    /usr/share/man/man1/claude-usage-gauge.1.gz        a short manual page
    /usr/share/doc/claude-usage-gauge/                 copyright and changelog

Files are owned by root (dpkg-deb --root-owner-group), so no fakeroot is needed. Nothing runs at
install: start at login stays a per-user choice (`claude-usage-gauge autostart enable`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "claude-usage-gauge"
# Whoever builds a package for others sets DEBFULLNAME and DEBEMAIL (as Debian's own tools read
# them); a local build gets this placeholder.
MAINTAINER = "claude-usage-gauge maintainers <claude-usage-gauge@users.noreply.github.com>"
# The bundle carries its own Python and libraries; what it takes from the system is the C
# library (PyInstaller leaves it out on purpose), at least the version it was built against.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SUMMARY = "tray gauge of your Claude 5-hour and weekly usage limits"
DESCRIPTION = """\
A small system-tray icon for Claude subscribers: two rings show how much
of the 5-hour session limit and of the weekly limit is used, and when each
resets. It also answers on the command line (status, doctor) and can feed
Claude Code's status line. Desktops with a StatusNotifierItem tray (KDE,
GNOME with the AppIndicator extension, XFCE, Cinnamon, LXQt, waybar) need
nothing else."""
MANPAGE = """\
.TH CLAUDE-USAGE-GAUGE 1 "" "claude-usage-gauge {version}" "User Commands"
.SH NAME
claude-usage-gauge \\- tray gauge of your Claude 5-hour and weekly usage limits
.SH SYNOPSIS
.B claude-usage-gauge
.RI [ command ]
.RI [ options ]
.SH DESCRIPTION
With no command, shows the tray icon. The commands include
.B status
(print the current usage; \\fB\\-\\-json\\fR for scripts),
.B doctor
(check the set-up),
.B autostart enable|disable|status
and
.BR statusline .
Run
.B claude-usage-gauge \\-\\-help
for the full list.
.SH FILES
Settings, state and logs live in the user's XDG config, state and data folders, under
.IR claude-usage-gauge .
"""


def version() -> str:
    text = (ROOT / "src" / "claude_usage_gauge" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise SystemExit("make_deb: no __version__ in src/claude_usage_gauge/__init__.py")
    return match.group(1)


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def glibc_version() -> str:
    """The C library's upstream version on this (the build) machine, e.g. "2.36"."""
    release = os.confstr("CS_GNU_LIBC_VERSION") or ""
    match = re.fullmatch(r"glibc (\d+\.\d+)", release)
    if match is None:
        raise SystemExit(f"make_deb: cannot tell the C library's version ({release!r})")
    return match.group(1)


def maintainer() -> str:
    name, email = os.environ.get("DEBFULLNAME", ""), os.environ.get("DEBEMAIL", "")
    return f"{name} <{email}>" if name and email else MAINTAINER


def control(version: str, arch: str, installed_kib: int, libc: str) -> str:
    body = "\n".join(f" {line}" if line else " ." for line in DESCRIPTION.splitlines())
    return (
        f"Package: {NAME}\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {maintainer()}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: libc6 (>= {libc})\n"
        "Section: utils\n"
        "Priority: optional\n"
        f"Description: {SUMMARY}\n"
        f"{body}\n"
    )


def _copyright() -> str:
    license_text = "MIT License"
    license_file = ROOT / "LICENSE"
    if license_file.is_file():
        license_text = license_file.read_text(encoding="utf-8").strip()
    lines = "\n".join(f" {line}" if line.strip() else " ." for line in license_text.splitlines())
    return (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {NAME}\n\n"
        "Files: *\n"
        "Copyright: 2025-2026 The claude-usage-gauge authors\n"
        "License: MIT\n"
        f"{lines}\n"
    )


def _gzip(data: bytes, path: Path) -> None:
    # mtime 0 and no file name: the same input makes the same bytes.
    with path.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(data)


def _tree_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir())
    return (total + 1023) // 1024


def _normalise_modes(root: Path) -> None:
    """Directories 0755; programs 0755; everything else 0644, shared libraries too (they are
    mapped, not run). No setuid, no group or world write, whatever the build left."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            library = ".so" in path.suffixes or path.name.endswith(".so")
            runnable = path.stat().st_mode & 0o111 and not library
            path.chmod(0o755 if runnable else 0o644)


def stage(bundle: Path, staging: Path, version: str) -> None:
    """Lay out the package's files under `staging` (which becomes /)."""
    lib = staging / "usr" / "lib" / NAME
    shutil.copytree(bundle, lib, symlinks=True)
    program = lib / NAME
    if not program.is_file():
        raise SystemExit(f"make_deb: {program} is missing; is {bundle} a Linux bundle?")
    bin_dir = staging / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / NAME).symlink_to(Path("..") / "lib" / NAME / NAME)

    share = staging / "usr" / "share"
    applications = share / "applications"
    applications.mkdir(parents=True)
    shutil.copyfile(ROOT / "packaging" / f"{NAME}.desktop", applications / f"{NAME}.desktop")
    for size in ICON_SIZES:
        source = ROOT / "assets" / f"icon-{size}.png"
        if not source.is_file():
            raise SystemExit(f"make_deb: {source} is missing (run scripts/make_icons.py)")
        apps = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        apps.mkdir(parents=True)
        shutil.copyfile(source, apps / f"{NAME}.png")

    man = share / "man" / "man1"
    man.mkdir(parents=True)
    _gzip(MANPAGE.format(version=version).encode(), man / f"{NAME}.1.gz")
    doc = share / "doc" / NAME
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(_copyright(), encoding="utf-8")
    changelog = (
        f"{NAME} ({version}) unstable; urgency=medium\n\n"
        "  * Built from the upstream release; see the project's history for changes.\n\n"
        f" -- {maintainer()}  Thu, 01 Jan 1970 00:00:00 +0000\n"
    )
    _gzip(changelog.encode(), doc / "changelog.gz")


def build(bundle: Path, out_dir: Path, *, arch: str | None = None, compression: str = "xz") -> Path:
    """Build the .deb from `bundle` into `out_dir`; returns its path. xz makes the smallest
    package (41 MB against gzip's 52 MB) but takes about three times gzip's CPU time."""
    ver = version()
    arch = arch or architecture()
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"{NAME}_{ver}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="make-deb-") as tmp:
        staging = Path(tmp) / "root"
        staging.mkdir()
        stage(bundle, staging, ver)
        _normalise_modes(staging)
        installed = _tree_kib(staging)
        debian = staging / "DEBIAN"
        debian.mkdir(mode=0o755)
        (debian / "control").write_text(
            control(ver, arch, installed, glibc_version()), encoding="utf-8"
        )
        sums = []
        for path in sorted(staging.rglob("*")):
            if path.is_file() and not path.is_symlink() and debian not in path.parents:
                digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
                sums.append(f"{digest}  {path.relative_to(staging)}\n")
        (debian / "md5sums").write_text("".join(sums), encoding="utf-8")
        for name in ("control", "md5sums"):
            (debian / name).chmod(0o644)
        subprocess.run(
            [
                "dpkg-deb",
                "--root-owner-group",
                f"-Z{compression}",
                "--build",
                str(staging),
                str(deb),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make the .deb from the Linux bundle.")
    parser.add_argument("bundle", nargs="?", type=Path, default=ROOT / "dist" / NAME)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None:
        print("make_deb: needs Linux with dpkg-deb", file=sys.stderr)
        return 1
    print(build(args.bundle, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
