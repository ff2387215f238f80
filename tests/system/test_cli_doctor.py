"""`claude-usage-gauge doctor`, run for real: where everything is and what is wrong, with the token
masked to its kind and length, and never a request of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI, rate_limited
from tests.support.cli_home import SECOND_TOKEN, TOKEN, TOKEN_HEAD, CliHome

ENV_TOKEN = TOKEN_HEAD + "CliTestTokenDoctorEnv2Zx7Cv4Bn9Mq1We6Rt3Yu8Io5Pa"


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as api:
        yield api


@pytest.fixture
def home(tmp_path: Path, fake: FakeUsageAPI) -> CliHome:
    cli_home = CliHome(tmp_path / "home", fake.url)
    cli_home.write_credentials()
    return cli_home


def _line(output: str, prefix: str) -> str:
    """The one line that starts with `prefix` (after indentation)."""
    found = [line.strip() for line in output.splitlines() if line.strip().startswith(prefix)]
    assert len(found) == 1, (prefix, output)
    return found[0]


def test_doctor_tells_everything_but_the_token(home: CliHome, fake: FakeUsageAPI) -> None:
    fake.script([rate_limited("0")])
    status = home.run("status")
    assert status.returncode == 1

    doctor = home.run("doctor")

    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    out = doctor.stdout
    assert _line(out, "found in:") == f"found in: {home.credentials_path}"
    assert _line(out, "token:") == f"token: {TOKEN_HEAD}…({len(TOKEN)} chars)"
    expires = _line(out, "expires:")
    assert "(in 7 h" in expires
    scopes = "user:inference user:profile user:sessions:claude_code"
    assert _line(out, "scopes:") == f"scopes: {scopes}"
    assert _line(out, "plan:") == "plan: max (tier default_claude_max_5x)"
    assert _line(out, "usable:") == "usable: yes"
    assert _line(out, "API base:") == f"API base: {fake.url}"
    assert _line(out, "next request:").endswith("(rate limited)")
    assert _line(out, "last error:").startswith("last error: Rate limited by the server")
    assert _line(out, "state:") == f"state: {home.state_file}"
    assert _line(out, "credential backups:") == f"credential backups: {home.backups_dir}"
    assert _line(out, "logs:").startswith(f"logs: {home.root}")
    assert _line(out, "backend:")
    # The status run asked once; the doctor asks nobody.
    assert fake.request_count == 1
    home.assert_clean(status, doctor)


def test_doctor_without_credentials(home: CliHome, fake: FakeUsageAPI) -> None:
    home.remove_credentials()

    doctor = home.run("doctor")

    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    out = doctor.stdout
    assert _line(out, "not usable:").startswith("not usable: Not signed in to Claude Code")
    assert _line(out, "looked in:") == f"looked in: {home.credentials_path}"
    assert "token:" not in out
    assert _line(out, "API base:") == f"API base: {fake.url}"
    assert _line(out, "last error:") == "last error: none"
    assert _line(out, "backend:")
    assert fake.request_count == 0
    home.assert_clean(doctor)


def test_doctor_explains_an_unusable_sign_in(home: CliHome, fake: FakeUsageAPI) -> None:
    home.write_credentials(SECOND_TOKEN, expires_in=timedelta(hours=-2), scopes=None)
    home.env["CLAUDE_CODE_OAUTH_TOKEN"] = ENV_TOKEN
    home.secrets.append(ENV_TOKEN)
    status = home.run("status")

    doctor = home.run("doctor")

    assert doctor.returncode == 0
    out = doctor.stdout
    assert _line(out, "token:") == f"token: {TOKEN_HEAD}…({len(SECOND_TOKEN)} chars)"
    assert _line(out, "expired:")
    assert _line(out, "scopes:") == "scopes: (not listed)"
    assert _line(out, "usable:").startswith("usable: no — Claude Code's sign-in expired")
    assert _line(out, "note:").startswith("note: CLAUDE_CODE_OAUTH_TOKEN is set")
    assert _line(out, "last error:").startswith("last error: Sign-in expired")
    assert fake.request_count == 0
    home.assert_clean(status, doctor)
