"""`claude-usage-gauge doctor`, run for real: where everything is and what is wrong, with the token
masked to its kind and length, and never a request of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI, rate_limited
from claude_usage_gauge.testing.fake_api import ok as ok_reply
from tests.support.cli_home import SECOND_TOKEN, TOKEN, TOKEN_HEAD, CliHome

FROM_ENV = "from CLAUDE_USAGE_GAUGE_API_BASE, which wins over the settings file"
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
    assert _line(out, "API base:") == f"API base: {fake.url} ({FROM_ENV})"
    assert _line(out, "next request:").endswith("(rate limited)")
    assert _line(out, "last error:").startswith("last error: Rate limited by the usage service")
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
    assert _line(out, "API base:") == f"API base: {fake.url} ({FROM_ENV})"
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
    assert _line(out, "usable:").startswith("usable: no — Claude Code's sign-in expired at")
    assert _line(out, "note:").startswith("note: CLAUDE_CODE_OAUTH_TOKEN is set")
    assert _line(out, "last error:").startswith("last error: Sign-in due for renewal")
    assert fake.request_count == 0
    home.assert_clean(status, doctor)


def test_a_sign_in_in_its_last_minutes_is_not_called_expired(
    home: CliHome, fake: FakeUsageAPI
) -> None:
    """Not used in its last minutes (Claude Code is about to renew it), but still valid: the
    words say when it expires, never that it did; the numbers already stored still show."""
    assert home.run("status").returncode == 0  # numbers stored while the sign-in was fine
    home.write_credentials(expires_in=timedelta(minutes=3))

    status = home.run("status")
    doctor = home.run("doctor")

    assert "expired" not in status.stdout + doctor.stdout
    assert "5-hour session: 42 %" in status.stdout
    assert "Claude Code's sign-in expires at " in status.stdout
    assert "renews it when you next use it" in status.stdout
    assert "(in 2 min)" in _line(doctor.stdout, "expires:")
    assert _line(doctor.stdout, "usable:").startswith(
        "usable: no — Claude Code's sign-in expires at "
    )
    assert fake.request_count == 1
    home.assert_clean(status, doctor)


# -- request ids and the report ----------------------------------------------------------------


def test_request_ids_reach_doctor_and_the_report_which_names_no_path(
    home: CliHome, fake: FakeUsageAPI
) -> None:
    from claude_usage_gauge.testing.fake_api import Reply, ok

    limited = rate_limited("600")
    fake.script(
        [
            ok(10.0, 5.0),
            Reply(429, limited.body, headers={**limited.headers, "request-id": "req_9Zq"}),
        ]
    )
    assert home.run("status").returncode == 0
    assert home.run("status", "--refresh").returncode == 0

    doctor = home.run("doctor")
    assert "rate_limited, id req_9Zq, retry after" in doctor.stdout
    report = home.run("doctor", "--report")
    assert report.returncode == 0
    text = report.stdout
    assert text.startswith("claude-usage-gauge report\n")
    assert "plan: max" in text
    assert "five_hour: 10 %" in text
    assert "rate_limited  request id req_9Zq, retry after" in text
    assert "  ok  request id req_fake" in text  # the fake names every answer, as the service does
    assert str(home.root) not in text
    assert "Next request: " in text
    home.assert_clean(doctor, report)


def test_every_time_in_the_report_is_utc_and_doctor_names_the_zone(
    home: CliHome, fake: FakeUsageAPI
) -> None:
    """In a zone away from UTC the report still says every moment in UTC (maintainers read it
    so); plain doctor names the local zone on the problem's next try as on its other times."""
    home.env["TZ"] = "Asia/Kolkata"  # +05:30: a local clock time is never the UTC one
    fake.script([ok_reply(), rate_limited("600")])
    assert home.run("status").returncode == 0
    home.run("status", "--refresh")  # meets the 429

    report = home.run("doctor", "--report")
    doctor = home.run("doctor")

    text = report.stdout
    for said in ("Numbers from ", "next try ", "Next request: "):
        assert said in text
    in_utc = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "", text)
    assert re.findall(r"\d{1,2}:\d{2}", in_utc) == [], text
    assert re.search(r"next try \d{2}:\d{2} IST$", _line(doctor.stdout, "last error:"))
    home.assert_clean(report, doctor)


def test_the_report_of_a_signed_out_home_names_no_user(tmp_path: Path, fake: FakeUsageAPI) -> None:
    """The problem's message names the credentials path; the report writes the home as ~."""
    home = CliHome(tmp_path / "home", fake.url)
    assert home.run("status").returncode == 1  # no sign-in: the problem is recorded
    report = home.run("doctor", "--report")
    assert report.returncode == 0
    assert "no_credentials" in report.stdout
    assert "~/.claude/.credentials.json" in report.stdout
    assert str(home.root) not in report.stdout


# -- where each setting came from, and what is wrong with it -------------------------------------


def write_settings(home: CliHome, text: str) -> Path:
    path = home.root / ".config" / "claude-usage-gauge" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_doctor_says_where_each_setting_came_from(home: CliHome, fake: FakeUsageAPI) -> None:
    path = write_settings(home, 'poll_interval = 300\nicon_style = "mono"\nwarn_percent = "x"\n')

    doctor = home.run("doctor")

    assert doctor.returncode == 0, doctor.stderr
    out = doctor.stdout
    assert _line(out, "file:") == f"file: {path}"
    assert _line(out, "API base:") == f"API base: {fake.url} ({FROM_ENV})"
    assert _line(out, "poll interval:") == "poll interval: 300 s (from the settings file)"
    assert _line(out, "icon style:") == "icon style: mono (from the settings file)"
    assert _line(out, "notifications:") == "notifications: on (default)"
    assert _line(out, "warn at:") == (
        "warn at: 75 % (the settings file's warn_percent is not usable, see below)"
    )
    assert _line(out, "settings problem:").startswith("settings problem: warn_percent")

    # Without the environment variable the address is the file's, or else the default.
    del home.env["CLAUDE_USAGE_GAUGE_API_BASE"]
    default = home.run("doctor")
    assert _line(default.stdout, "API base:") == "API base: https://api.anthropic.com (default)"
    write_settings(home, f'api_base = "{fake.url}"\n')
    from_file = home.run("doctor")
    assert _line(from_file.stdout, "API base:") == f"API base: {fake.url} (from the settings file)"
    assert fake.request_count == 0
    home.assert_clean(doctor, default, from_file)


def test_a_refused_address_is_flagged_and_forgotten_once_fixed(
    home: CliHome, fake: FakeUsageAPI
) -> None:
    home.set_api_base("http://usage.example.invalid")  # plain http to another machine
    status = home.run("status")
    refused = home.run("doctor")

    assert status.returncode == 1
    assert fake.request_count == 0
    out = refused.stdout
    assert _line(out, "API base:") == (
        f"API base: http://usage.example.invalid ({FROM_ENV}) — REFUSED"
    )
    assert _line(out, "The usage API address is refused:").endswith(
        "No request is made until it is fixed."
    )
    assert _line(out, "next request:") == "next request: none until the API address is fixed"
    # The stored problem's full text is right there: no "see the log".
    assert _line(out, "last error:") == (
        "last error: Settings problem: the API base above is refused"
    )
    for text in (status.stdout, out):
        assert "see the log" not in text
    assert "Problem: Settings problem\n" in status.stdout

    home.set_api_base(fake.url)  # fixed; no status has run since
    fixed = home.run("doctor")

    out = fixed.stdout
    assert "REFUSED" not in out
    assert "is refused" not in out
    assert (
        _line(out, "last error:") == "last error: none (an earlier settings problem is fixed since)"
    )
    assert fake.request_count == 0
    home.assert_clean(status, refused, fixed)


def test_doctor_times_are_local_with_their_zone_and_the_report_stays_utc(
    home: CliHome, fake: FakeUsageAPI
) -> None:
    assert home.run("status").returncode == 0
    kolkata = {"TZ": "Asia/Kolkata"}

    doctor = home.run("doctor", env=kolkata)
    report = home.run("doctor", "--report", env=kolkata)

    assert re.fullmatch(
        r"expires: \d{4}-\d\d-\d\d \d\d:\d\d IST \(in 7 h \d+ min\)",
        _line(doctor.stdout, "expires:"),
    )
    assert re.fullmatch(
        r"last usage: \d{4}-\d\d-\d\d \d\d:\d\d IST from api", _line(doctor.stdout, "last usage:")
    )
    assert re.fullmatch(r"request \d\d:\d\d IST: ok, id \S+", _line(doctor.stdout, "request "))
    assert "IST" not in report.stdout
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", report.stdout)
    home.assert_clean(doctor, report)
