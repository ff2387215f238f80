"""Text from the server, the credentials or a state file that tries to drive the terminal or the
menu (escape sequences, OSC 52 clipboard writes, OSC 8 links, BEL, CR/LF, C1 controls, bidi
overrides, 3,000-character labels), and terminals that cannot encode what we print.

The real CLI against the fake API on 127.0.0.1, and the menu as the tray builds it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.menu import Entry, MenuContext, build_menu
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.usage import Usage, Window
from claude_usage_gauge.core.view import build_view, status_lines, tooltip
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, api_error, usage_body
from tests.support.cli_home import CliHome, credentials_document

# Everything a terminal or a menu could be driven by; a line break is ours to write.
UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
PAYLOADS = (
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]52;c;SGVsbG8=\x07",  # write the clipboard
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",  # a hidden link
    "\r\nProblem: none, all fine",  # a faked line
    "\x9b31m",  # C1 CSI
    "\u202eenilno",  # right-to-left override
    "\u2028",  # line separator
)
HOSTILE = "Opus" + "".join(PAYLOADS) + "W" * 3000
NOW = datetime.now(UTC)
LABEL_MAX = 60  # a label's most characters in a menu or a terminal line


def hostile_body() -> dict[str, object]:
    body = usage_body(42.0, 18.0, now=NOW, limits=True)
    limits = body["limits"]
    assert isinstance(limits, list)
    limits.append(
        {
            "kind": "weekly_scoped",
            "group": "models",
            "percent": 12.0,
            "severity": "normal",
            "resets_at": (NOW + timedelta(days=2)).isoformat(),
            "scope": {"model": {"id": "m", "display_name": HOSTILE}, "surface": None},
            "is_active": False,
        }
    )
    body["extra_usage"] = {
        "is_enabled": True,
        "monthly_limit": 5000,
        "used_credits": 1200,
        "utilization": 24.0,
        "currency": "X\x1b]52;c;SGk=\x07\u202eZ",
    }
    return body


def hostile_home(root: Path, url: str) -> CliHome:
    home = CliHome(root, url)
    document = credentials_document(
        scopes=["user:inference", "user:profile", HOSTILE],
        subscription_type=HOSTILE,
        rate_limit_tier=HOSTILE,
    )
    home.write_raw(json.dumps(document).encode())
    return home


def assert_safe(text: str, *, capped: bool = True) -> None:
    found = UNSAFE.search(text)
    assert found is None, f"raw {found.group()!r} in output"
    if capped:
        assert "W" * 200 not in text
        assert max((len(line) for line in text.splitlines()), default=0) <= 600


def test_hostile_labels_and_plans_are_shown_safe(tmp_path: Path) -> None:
    with FakeUsageAPI(default=Reply(200, hostile_body())) as fake:
        home = hostile_home(tmp_path / "home", fake.url)
        status = home.run("status")
        doctor = home.run("doctor")
        raw_json = home.run("status", "--json")
    home.assert_clean(status, doctor, raw_json)
    assert status.returncode == 0, status.stdout + status.stderr
    for proc in (status, doctor):
        assert_safe(proc.stdout + proc.stderr)
    assert "Week (Opus\\x1b[2J" in status.stdout  # shown escaped, not acted on
    assert "plan: Opus" in doctor.stdout
    # --json keeps every value exactly, with the dangerous characters written as escapes.
    assert_safe(raw_json.stdout, capped=False)
    data = json.loads(raw_json.stdout)
    labels = [w["label"] for w in data["windows"]]
    assert f"Week ({HOSTILE})" in labels
    assert data["extra_usage"]["currency"] == "X\x1b]52;c;SGk=\x07\u202eZ"


def test_a_hostile_error_message_is_shown_safe(tmp_path: Path) -> None:
    message = "Overloaded" + "".join(PAYLOADS)
    with FakeUsageAPI(default=api_error(500, "api_error", message)) as fake:
        home = hostile_home(tmp_path / "home", fake.url)
        status = home.run("status")
    home.assert_clean(status)
    assert_safe(status.stdout + status.stderr)
    # And what the store keeps (another version's, or another tool's words) is shown safe too.
    state = json.loads(home.state_file.read_text())
    state["last_error"]["message"] = message
    home.state_file.write_text(json.dumps(state))
    for proc in (home.run("status"), home.run("doctor")):
        assert_safe(proc.stdout + proc.stderr)
        assert "\\x1b]52" in proc.stdout


def _texts(entries: tuple[Entry, ...]) -> list[str]:
    out: list[str] = []
    for entry in entries:
        out.append(entry.text)
        out += _texts(entry.children)
    return out


@settings(max_examples=150, deadline=None)
@given(
    label=st.text(min_size=1, max_size=400),
    message=st.text(max_size=400),
    plan=st.text(max_size=200),
)
def test_every_menu_entry_and_the_tooltip_are_safe(label: str, message: str, plan: str) -> None:
    window = Window(id="seven_day_x", label=label, percent=50.0, resets_at=None)
    usage = Usage(windows=(window,), extra_usage=None, fetched_at=NOW, source="api")
    problem = Problem(ErrorKind.SERVER_ERROR, message, detail=message)
    state = State(snapshot=usage, last_error=problem, error_at=NOW)
    view = build_view(state, NOW, Settings())
    entries = build_menu(view, NOW, MenuContext(plan=plan, credentials_path="/c", backups_dir="/b"))
    for text in [*_texts(entries), tooltip(view, NOW), *status_lines(view, NOW)]:
        assert UNSAFE.search(text.replace("\n", "")) is None
    shown = [t for t in _texts(entries) if t.endswith(" %") or "% ·" in t]
    assert all(len(t) <= LABEL_MAX + 10 for t in shown)  # "<label>: 50 %"


@given(st.text(max_size=300))
def test_the_sanitiser_escapes_everything_unsafe_and_json_stays_exact(text: str) -> None:
    from claude_usage_gauge.core.text import clean, escape_json

    shown = clean(text, 80)
    assert UNSAFE.search(shown) is None
    assert len(shown) <= 80
    dumped = escape_json(json.dumps({"v": text}, ensure_ascii=False))
    assert UNSAFE.search(dumped) is None
    assert json.loads(dumped) == {"v": text}


# -- terminals that cannot encode what we print -------------------------------------------------

ENCODINGS = {
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "latin-1": {"PYTHONIOENCODING": "latin-1"},
    "C locale": {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
}


def _run_bytes(
    home: CliHome, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[bytes]:
    full = {k: v for k, v in home.env.items() if k not in ("PYTHONIOENCODING", "LANG", "LC_ALL")}
    return subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge", *args],
        input=b"",
        capture_output=True,
        env={**full, **env},
        cwd=home.root,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_a_terminal_that_cannot_encode_gets_every_line(tmp_path: Path, name: str) -> None:
    env = ENCODINGS[name]
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.stdout.encoding)"],
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in __import__("os").environ.items() if k != "PYTHONIOENCODING"},
            **env,
        },
        check=True,
    )
    if "utf" in probe.stdout.lower():
        pytest.skip(f"this system gives Python a UTF-8 stdout under {name}")
    body = usage_body(42.0, 18.0, now=NOW, limits=True)
    body["extra_usage"] = {
        "is_enabled": True,
        "monthly_limit": 5000,
        "used_credits": 1200,
        "currency": "EUR",
    }
    with FakeUsageAPI(default=Reply(200, body)) as fake:
        home = hostile_home(tmp_path / "home", fake.url)
        utf8 = json.loads(home.run("status", "--json").stdout)
        runs = [
            _run_bytes(home, env, *argv)
            for argv in (("status",), ("doctor",), ("status", "--json"))
        ]
    encoding = "latin-1" if name == "latin-1" else "ascii"
    status, doctor, as_json = (r.stdout.decode(encoding) + r.stderr.decode(encoding) for r in runs)
    for proc, text in zip(runs, (status, doctor, as_json), strict=True):
        assert proc.returncode == 0, text
        assert "unexpected error" not in text
        assert "Traceback" not in text
    assert (
        "Updated just now - from the usage service" in status
        or "Updated just now · from the usage service" in status
    )
    assert "Tray" in doctor  # the last section: doctor got to the end
    assert json.loads(as_json) == utf8  # --json: the same values, written as escapes
