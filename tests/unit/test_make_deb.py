"""packaging/make_deb.py's pure parts: the control file and the file modes (no dpkg needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import make_deb


def test_control_has_the_fields_and_a_well_formed_description(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEBFULLNAME", raising=False)
    monkeypatch.delenv("DEBEMAIL", raising=False)
    text = make_deb.control("0.1.0", "amd64", 1234, "2.36")
    fields = dict(line.split(": ", 1) for line in text.splitlines() if not line.startswith(" "))
    assert fields["Package"] == "claude-usage-gauge"
    assert fields["Version"] == "0.1.0"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "1234"
    assert fields["Depends"] == "libc6 (>= 2.36)"
    assert fields["Maintainer"] == make_deb.MAINTAINER
    body = [line for line in text.splitlines() if line.startswith(" ")]
    assert body, "an extended description"
    assert all(len(line) <= 80 for line in body)
    assert text.endswith("\n")


def test_the_maintainer_comes_from_debfullname_and_debemail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEBFULLNAME", "A Packager")
    monkeypatch.setenv("DEBEMAIL", "a@example.org")
    assert "Maintainer: A Packager <a@example.org>\n" in make_deb.control("1", "all", 1, "2.36")


def test_modes_programs_run_libraries_and_data_do_not(tmp_path: Path) -> None:
    program = tmp_path / "claude-usage-gauge"
    library = tmp_path / "_internal" / "libz.so.1"
    module = tmp_path / "_internal" / "_ssl.cpython-311-x86_64-linux-gnu.so"
    data = tmp_path / "_internal" / "base_library.zip"
    library.parent.mkdir(mode=0o777)
    for path, mode in ((program, 0o775), (library, 0o755), (module, 0o777), (data, 0o666)):
        path.write_bytes(b"x")
        path.chmod(mode)
    make_deb._normalise_modes(tmp_path)
    assert program.stat().st_mode & 0o7777 == 0o755
    assert library.stat().st_mode & 0o7777 == 0o644
    assert module.stat().st_mode & 0o7777 == 0o644
    assert data.stat().st_mode & 0o7777 == 0o644
    assert library.parent.stat().st_mode & 0o7777 == 0o755
