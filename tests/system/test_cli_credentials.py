"""Claude Code's credentials as the real command meets them: every way they can be unusable (and
then not one request may go out), and `credentials reset / list / restore` moving the file aside
and back without losing a byte.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from tests.support.cli_home import (
    OTHER_KEYS,
    SECOND_TOKEN,
    TOKEN,
    TOKEN_HEAD,
    CliHome,
    assert_status_shape,
    credentials_document,
    error_kind,
    in_parallel,
    percents,
    seed_home,
)

ENV_TOKEN = TOKEN_HEAD + "CliTestTokenFromEnv8Jw3Qe6Rt1Yu4Io9Pa2Sd5Fg0Hj7Kl"


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as api:
        yield api


@pytest.fixture
def home(tmp_path: Path, fake: FakeUsageAPI) -> CliHome:
    cli_home = CliHome(tmp_path / "home", fake.url)
    cli_home.write_credentials()
    return cli_home


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[CliHome, dict[str, object]]:
    return seed_home(tmp_path_factory.mktemp("seeded") / "home")


# -- unusable credentials: found without asking the server -------------------------------------


def _truncated_after_token(home: CliHome) -> None:
    text = json.dumps(credentials_document(), indent=2)
    cut = text.index(TOKEN) + len(TOKEN) + 2
    home.write_raw(text[:cut].encode())


def _damaged_token(home: CliHome) -> None:
    home.write_credentials(TOKEN + "\n trailing")


def _env_token_only(home: CliHome) -> None:
    home.remove_credentials()
    home.env["CLAUDE_CODE_OAUTH_TOKEN"] = ENV_TOKEN
    home.secrets.append(ENV_TOKEN)


@dataclass(frozen=True)
class Broken:
    kind: str
    make: Callable[[CliHome], object]


BROKEN: dict[str, Broken] = {
    "no-file": Broken("no_credentials", CliHome.remove_credentials),
    "only-env-token": Broken("no_credentials", _env_token_only),
    "empty-file": Broken("bad_credentials", lambda h: h.write_raw(b"")),
    "garbage": Broken("bad_credentials", lambda h: h.write_raw(b"\x00\xff{not json at all")),
    "truncated-json": Broken("bad_credentials", _truncated_after_token),
    "json-list": Broken("bad_credentials", lambda h: h.write_document([TOKEN])),
    "no-claudeAiOauth": Broken(
        "bad_credentials", lambda h: h.write_document({"somethingElse": {"a": 1}})
    ),
    "only-mcpOAuth": Broken("bad_credentials", lambda h: h.write_document(OTHER_KEYS)),
    "empty-token": Broken("bad_credentials", lambda h: h.write_credentials("")),
    "damaged-token": Broken("bad_credentials", _damaged_token),
    "expires-in-4-minutes": Broken(
        "token_expired", lambda h: h.write_credentials(expires_in=timedelta(minutes=4))
    ),
    "expired-an-hour-ago": Broken(
        "token_expired", lambda h: h.write_credentials(expires_in=timedelta(hours=-1))
    ),
    "scopes-without-profile": Broken(
        "missing_scope", lambda h: h.write_credentials(scopes=("user:inference",))
    ),
    "empty-scopes": Broken("missing_scope", lambda h: h.write_credentials(scopes=())),
}


def _broken_without_data(tmp_path: Path, broken: Broken) -> None:
    with FakeUsageAPI() as fake:
        home = CliHome(tmp_path / "first", fake.url)
        home.write_credentials()
        broken.make(home)

        proc, data = home.status_json()
        text = home.run("status", "--refresh")

        assert proc.returncode == 1, proc.stdout
        assert_status_shape(data)
        assert error_kind(data) == broken.kind
        assert data["windows"] == []
        assert data["error"]["retry_at"] is None  # type: ignore[index]
        assert text.returncode == 1
        assert "Problem: " in text.stdout
        assert "What to do:" in text.stdout
        # Expiry is cured by using Claude Code; everything else by signing in again.
        cure = "run: claude" if broken.kind == "token_expired" else "/login"
        assert cure in text.stdout
        assert fake.request_count == 0
        home.assert_clean(proc, text)


def _broken_with_data(
    tmp_path: Path, seeded: tuple[CliHome, dict[str, object]], broken: Broken
) -> None:
    with FakeUsageAPI() as fake:
        home = seeded[0].clone(tmp_path / "second", fake.url)
        broken.make(home)

        # A manual refresh: only the credentials check can keep this from asking.
        proc, data = home.status_json("--refresh")

        assert proc.returncode == 0, proc.stdout
        assert error_kind(data) == broken.kind
        assert data["stale"] is True
        assert percents(data) == percents(seeded[1])
        assert data["fetched_at"] == seeded[1]["fetched_at"]
        assert fake.request_count == 0
        home.assert_clean(proc)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_unusable_credentials_send_nothing(
    tmp_path: Path, seeded: tuple[CliHome, dict[str, object]], name: str
) -> None:
    broken = BROKEN[name]
    in_parallel(
        lambda: _broken_without_data(tmp_path, broken),
        lambda: _broken_with_data(tmp_path, seeded, broken),
    )


def test_env_token_is_named_but_never_shown(home: CliHome, fake: FakeUsageAPI) -> None:
    _env_token_only(home)
    proc, data = home.status_json()
    assert proc.returncode == 1
    message = data["error"]["message"]  # type: ignore[index]
    assert isinstance(message, str)
    assert "CLAUDE_CODE_OAUTH_TOKEN" in message
    assert fake.request_count == 0
    home.assert_clean(proc)


def test_sign_in_without_scopes_key_is_tried(home: CliHome, fake: FakeUsageAPI) -> None:
    home.write_credentials(scopes=None)
    proc, data = home.status_json()
    assert proc.returncode == 0
    assert data["error"] is None
    assert fake.request_count == 1
    home.assert_clean(proc)


def test_repaired_sign_in_clears_the_problem(home: CliHome, fake: FakeUsageAPI) -> None:
    home.write_credentials(expires_in=timedelta(minutes=1))
    expired, data = home.status_json()
    assert expired.returncode == 1
    assert error_kind(data) == "token_expired"
    assert fake.request_count == 0

    # Claude Code renews the token in the file: the next status asks, and all is well.
    home.write_credentials(SECOND_TOKEN)
    proc, fresh = home.status_json()
    assert proc.returncode == 0
    assert fresh["error"] is None
    assert fake.request_count == 1
    assert fake.requests[0].headers["authorization"] == f"Bearer {SECOND_TOKEN}"
    home.assert_clean(expired, proc)


# -- credentials reset / list / restore ---------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _backup_files(home: CliHome) -> list[Path]:
    if not home.backups_dir.exists():
        return []
    return sorted(home.backups_dir.glob("credentials-*.json"))


def test_reset_list_restore_round_trip(home: CliHome, fake: FakeUsageAPI) -> None:
    original = home.credentials_path.read_bytes()

    reset = home.run("credentials", "reset", "--yes")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "Moved to backup: " in reset.stdout
    assert "/login" in reset.stdout
    assert "claude-usage-gauge credentials restore" in reset.stdout
    assert not home.credentials_path.exists()
    assert _mode(home.backups_dir) == 0o700
    (backup,) = _backup_files(home)
    assert backup.read_bytes() == original
    assert _mode(backup) == 0o600

    listed = home.run("credentials", "list")
    assert listed.returncode == 0
    (line,) = listed.stdout.splitlines()
    assert line.endswith(" (file)")

    # Signed out now: status says so and asks nobody.
    signed_out, data = home.status_json()
    assert signed_out.returncode == 1
    assert error_kind(data) == "no_credentials"
    assert fake.request_count == 0

    restore = home.run("credentials", "restore", "--yes")
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "earlier sign-in is back" in restore.stdout
    assert home.credentials_path.read_bytes() == original
    assert _mode(home.credentials_path) == 0o600
    restored = json.loads(original)
    assert restored["mcpOAuth"] == OTHER_KEYS["mcpOAuth"]
    assert _backup_files(home) == []

    empty = home.run("credentials", "list")
    assert empty.returncode == 0
    assert empty.stdout.splitlines()[0] == "No backups."

    back, fresh = home.status_json()
    assert back.returncode == 0
    assert fresh["error"] is None
    assert fake.request_count == 1
    home.assert_clean(reset, listed, signed_out, restore, empty, back)


def test_restore_keeps_the_sign_in_that_appeared_meanwhile(home: CliHome) -> None:
    original = home.credentials_path.read_bytes()
    assert home.run("credentials", "reset", "--yes").returncode == 0
    newer = home.write_credentials(SECOND_TOKEN)

    restore = home.run("credentials", "restore", "--yes")

    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "kept as backup" in restore.stdout
    assert home.credentials_path.read_bytes() == original
    (kept,) = _backup_files(home)
    assert kept.read_bytes() == newer
    assert _mode(kept) == 0o600
    home.assert_clean(restore)


def test_nothing_to_reset_or_restore(tmp_path: Path, fake: FakeUsageAPI) -> None:
    home = CliHome(tmp_path / "home", fake.url)  # never signed in
    reset, restore, listed = home.run_many(
        [
            ["credentials", "reset", "--yes"],
            ["credentials", "restore", "--yes"],
            ["credentials", "list"],
        ]
    )

    # Refusals go to stderr and fail; an empty list is an answer (stdout, success).
    assert reset.returncode == 1
    assert reset.stdout == ""
    assert reset.stderr.startswith("There is no Claude Code sign-in to reset")
    assert str(home.credentials_path) in reset.stderr
    assert restore.returncode == 1
    assert restore.stdout == ""
    assert restore.stderr.startswith("There is no credentials backup to restore")
    assert listed.returncode == 0
    assert listed.stdout == f"No backups.\nThey would be in {home.backups_dir}\n"
    assert listed.stderr == ""
    assert _backup_files(home) == []
    assert fake.request_count == 0
    home.assert_clean(reset, restore, listed)


def test_without_yes_and_without_a_terminal_nothing_happens(home: CliHome) -> None:
    original = home.credentials_path.read_bytes()

    # Even a "y" on a piped stdin is not a person answering.
    reset = home.run("credentials", "reset", input="y\n")

    assert reset.returncode == 1
    assert reset.stdout == ""
    assert "--yes" in reset.stderr
    assert home.credentials_path.read_bytes() == original
    assert _backup_files(home) == []

    assert home.run("credentials", "reset", "--yes").returncode == 0
    (backup,) = _backup_files(home)
    restore = home.run("credentials", "restore", input="y\n")

    assert restore.returncode == 1
    assert restore.stdout == ""
    assert "--yes" in restore.stderr
    assert not home.credentials_path.exists()
    assert _backup_files(home) == [backup]
    assert backup.read_bytes() == original
    home.assert_clean(reset, restore)


@pytest.mark.parametrize(
    ("zone", "name"),
    [("Europe/Berlin", r"CE(S)?T"), ("Asia/Kolkata", "IST"), ("America/Sao_Paulo", r"UTC-03")],
)
def test_list_shows_one_local_time_with_its_zone(home: CliHome, zone: str, name: str) -> None:
    reset = home.run("credentials", "reset", "--yes", env={"TZ": zone})
    assert reset.returncode == 0, reset.stderr
    (backup,) = _backup_files(home)
    # The reset names the backup by the same local time (with seconds) and zone.
    moved = rf"Moved to backup: (\d{{4}}-\d\d-\d\d \d\d:\d\d):\d\d ({name}) \(file\)"
    assert re.match(moved, reset.stdout), reset.stdout

    listed = home.run("credentials", "list", env={"TZ": zone})

    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    match = re.fullmatch(rf"(\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d) ({name}) \(file\)", line)
    assert match is not None, line
    # One format: the list names the backup exactly as the reset did.
    assert reset.stdout.splitlines()[0] == f"Moved to backup: {line}"
    # The backup's own name holds its UTC time: the line is that moment in the named zone.
    made = datetime.strptime(backup.name[len("credentials-") :][:15], "%Y%m%dT%H%M%S")
    expected = made.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    assert match[1] == f"{expected:%Y-%m-%d %H:%M:%S}"
    assert "UTC" not in line or zone == "America/Sao_Paulo"  # one timestamp, not two
    home.assert_clean(listed)


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is a POSIX thing")
@pytest.mark.parametrize(("answer", "code"), [("n", 1), ("y", 0)])
def test_the_question_is_asked_on_stderr_when_stdout_is_a_file(
    home: CliHome, answer: str, code: int
) -> None:
    """A person at a terminal with stdout redirected still sees the question; stdout gets only
    the result."""
    import pty
    import subprocess

    original = home.credentials_path.read_bytes()
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "claude_usage_gauge", "credentials", "reset"],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=home.env,
            cwd=home.root,
        )
        os.write(controller, f"{answer}\n".encode())
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)

    assert proc.returncode == code, err
    assert err.startswith("Move Claude Code's credentials aside to a backup in ")
    assert "[y/N]" in err
    assert "[y/N]" not in out
    if answer == "n":
        assert out == ""
        assert home.credentials_path.read_bytes() == original
    else:
        assert out.startswith("Moved to backup: ")
        assert not home.credentials_path.exists()
