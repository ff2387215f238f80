"""The Debian package, really built and unpacked: PyInstaller bundles the program once per run,
packaging/make_deb.py wraps it with dpkg-deb, `dpkg -x` installs it into a throwaway root, and
the installed program answers `--version`, `doctor` and `status --json` from there.

Building the bundle takes a minute or two; set CLAUDE_USAGE_GAUGE_TEST_BUNDLE to a bundle that
scripts/package already built to skip that while working on the package itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge import __version__
from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from tests.support.cli_home import CliHome, make_home

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import make_deb  # noqa: E402

NAME = "claude-usage-gauge"

pytestmark = [
    pytest.mark.deb,
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None,
        reason="the Debian package is built on Debian-like Linux",
    ),
]

# What lintian still says about the package (errors and warnings), each for a reason that comes
# with a PyInstaller bundle rather than with this package:
# - embedded-library: the bundle carries its own zlib, libpng, freetype, expat, ... (Pillow's
#   wheels and PyInstaller copy them in); that is what lets it run without the system's Python.
# - unstripped-binary-or-object: the libraries come from wheels and the build machine as they
#   are; stripping Pillow's patched libraries is not worth the risk for a few MB.
# - custom-library-search-path: the build's Python (here pyenv's) was linked with a RUNPATH to
#   its own lib folder, and its extension modules keep it; the bundle finds its libraries
#   through PyInstaller's own path, so the stale entry is never used.
# - library-not-linked-against-libc, shared-library-lacks-prerequisites: Python extension
#   modules get their symbols from the Python that loads them.
# - missing-depends-on-sensible-utils: libmount and libblkid mention `sensible-pager` in a
#   string; the program never starts a pager.
# - hardening-no-pie: PyInstaller's bootloader is built that way.
EXPLAINED_TAGS = {
    "embedded-library",
    "unstripped-binary-or-object",
    "custom-library-search-path",
    "library-not-linked-against-libc",
    "shared-library-lacks-prerequisites",
    "missing-depends-on-sensible-utils",
    "hardening-no-pie",
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prebuilt = os.environ.get("CLAUDE_USAGE_GAUGE_TEST_BUNDLE")
    if prebuilt:
        return Path(prebuilt)
    pytest.importorskip("PyInstaller", reason="PyInstaller is in the 'package' extra")
    work = tmp_path_factory.mktemp("pyinstaller")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(ROOT / "packaging" / f"{NAME}.spec"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return work / "dist" / NAME


@pytest.fixture(scope="module")
def deb(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # gzip rather than the release's xz: the same package, made in a third of the time.
    return make_deb.build(bundle, tmp_path_factory.mktemp("deb"), compression="gzip")


@pytest.fixture(scope="module")
def installed(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package unpacked into a throwaway root, as dpkg would lay it out."""
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as api:
        yield api


def _field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def _run(installed: Path, home: CliHome, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed program, started through its /usr/bin link, with no Python on PATH."""
    env = dict(home.env, PATH="/nonexistent")
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(installed / "usr" / "bin" / NAME), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=home.root,
        timeout=60,
        check=False,
    )


def test_the_file_name_and_control_fields(deb: Path) -> None:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert deb.name == f"{NAME}_{__version__}_{arch}.deb"
    assert _field(deb, "Package") == NAME
    assert _field(deb, "Version") == __version__
    assert _field(deb, "Architecture") == arch
    assert "<" in _field(deb, "Maintainer")
    assert _field(deb, "Depends").startswith("libc6 (>= ")
    assert _field(deb, "Description").startswith("tray gauge of your Claude")
    assert int(_field(deb, "Installed-Size")) > 10_000  # KiB: the bundle is in it


def test_the_files_land_where_the_desktop_looks(installed: Path) -> None:
    link = installed / "usr" / "bin" / NAME
    assert link.is_symlink()
    assert os.readlink(link) == f"../lib/{NAME}/{NAME}"
    assert link.resolve() == (installed / "usr" / "lib" / NAME / NAME).resolve()
    assert os.access(link, os.X_OK)
    desktop = installed / "usr" / "share" / "applications" / f"{NAME}.desktop"
    assert "Exec=claude-usage-gauge" in desktop.read_text(encoding="utf-8")
    for size in make_deb.ICON_SIZES:
        icon = installed / "usr/share/icons/hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png"
        from PIL import Image

        with Image.open(icon) as image:
            assert image.size == (size, size)
    assert (installed / "usr/share/doc" / NAME / "copyright").is_file()


def test_the_desktop_entry_is_valid(installed: Path) -> None:
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-utils is not installed")
    desktop = installed / "usr" / "share" / "applications" / f"{NAME}.desktop"
    result = subprocess.run([validate, str(desktop)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_installed_program_answers_version_doctor_and_status(
    installed: Path, fake: FakeUsageAPI, tmp_path: Path
) -> None:
    home = make_home(tmp_path, fake.url)

    version = _run(installed, home, "--version")
    assert version.returncode == 0, version.stderr
    assert __version__ in version.stdout

    # Not signed in: a clear error, not a crash.
    signed_out = _run(installed, home, "status", "--json")
    assert signed_out.returncode == 1, signed_out.stderr
    assert json.loads(signed_out.stdout)["error"]["kind"] == "no_credentials"

    # Signed in, against the fake usage service: the real figures.
    home.write_credentials()
    status = _run(installed, home, "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    data = json.loads(status.stdout)
    assert data["error"] is None
    assert {window["id"] for window in data["windows"]} >= {"five_hour", "seven_day"}
    assert fake.request_count == 1

    doctor = _run(installed, home, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"API base: {fake.url}" in doctor.stdout
    home.assert_clean(version, signed_out, status, doctor)


def test_lintian_finds_nothing_unexplained(deb: Path) -> None:
    lintian = shutil.which("lintian")
    if lintian is None:
        pytest.skip("lintian is not installed (scripts/test installs it)")
    result = subprocess.run(
        [lintian, "--tag-display-limit", "0", str(deb)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = [line for line in result.stdout.splitlines() if line[:2] in ("E:", "W:")]
    tags = {line.split()[2] for line in findings}
    assert tags <= EXPLAINED_TAGS, "\n".join(findings)
