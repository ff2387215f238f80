"""The statusline bridge run the way Claude Code runs it: the real CLI, a subprocess, JSON on stdin.

Every run gets its own home and XDG directories, and an API base on a closed local port: the
bridge must never connect anywhere, and if it tried, nothing would answer.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.staleness import DEFAULT_POLL_INTERVAL, stale_after
from claude_usage_gauge.core.usage import ExtraUsage, Usage, Window
from claude_usage_gauge.core.values import local_clock
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.statusline.bridge import bridge_command, parse_bridge_args
from claude_usage_gauge.statusline.bridge_file import BRIDGE_FILE_NAME, read_bridge, write_bridge
from claude_usage_gauge.statusline.line import (
    Known,
    combine,
    default_line,
    line_fields,
    render_line,
)
from claude_usage_gauge.statusline.then import THEN_TIMEOUT_ENV, THEN_TIMEOUT_SECONDS, then_timeout
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.claude_code import statusline_input

# Never on the bridge's path: GUI, HTTP, TLS, Keychain, sockets, and the slow general-purpose
# modules the full command line and the store use (argparse, dataclasses, logging, ...).
HEAVY_MODULES = (
    "httpx",
    "ssl",
    "PIL",
    "pystray",
    "keyring",
    "gi",
    "truststore",
    "socket",
    "argparse",
    "dataclasses",
    "logging",
    "filelock",
    "platformdirs",
    "inspect",
)
# Not heavy enough to list above, but the plain bridge (no --then, numbers on stdin) needs none.
NOT_ON_THE_PLAIN_PATH = ("subprocess", "threading", "json", "re", "typing", "datetime", "pathlib")
NO_TRACEBACK = "Traceback"


def _paths(root: Path) -> AppPaths:
    return AppPaths(
        state_dir=root / "state" / "claude-usage-gauge",
        data_dir=root / "data" / "claude-usage-gauge",
        log_dir=root / "state" / "claude-usage-gauge" / "log",
        config_dir=root / "config" / "claude-usage-gauge",
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CLAUDE_CONFIG_DIR", THEN_TIMEOUT_ENV) and not k.startswith("XDG_")
    }
    environ.update(
        HOME=str(home),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        CLAUDE_USAGE_GAUGE_API_BASE="http://127.0.0.1:9",
    )
    return environ


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    # The same directories platformdirs picks from the XDG variables in `env`.
    return _paths(tmp_path)


def state_dir_args(env: dict[str, str]) -> list[str]:
    """What `statusline install` writes into the command: the shared state's folder."""
    return ["--state-dir", os.path.join(env["XDG_STATE_HOME"], "claude-usage-gauge")]


def run_cli(
    env: dict[str, str],
    stdin: bytes,
    *args: str,
    timeout: float = 30,
    named_state_dir: bool = True,
) -> subprocess.CompletedProcess[str]:
    named = (
        state_dir_args(env)
        if named_state_dir and args[:1] not in (("install",), ("uninstall",))
        else []
    )
    result = subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge", "statusline", *named, *args],
        input=stdin,
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8"),
        result.stderr.decode("utf-8", errors="replace"),
    )


def bridge_path(paths: AppPaths) -> Path:
    return paths.state_dir / BRIDGE_FILE_NAME


def bridged(paths: AppPaths) -> dict[str, object]:
    data = json.loads(bridge_path(paths).read_bytes())
    assert isinstance(data, dict)
    return data


def hhmm(moment: datetime) -> str:
    """The line's clock for a moment, computed independently of the code under test."""
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def seed(paths: AppPaths, usage: Usage, problem: Problem | None = None) -> None:
    def change(state: object) -> object:
        new = state.with_snapshot(usage)  # type: ignore[attr-defined]
        if problem is not None:
            new = new.with_error(problem, usage.fetched_at + timedelta(seconds=30))
        return new

    Store(paths).update(change)  # type: ignore[arg-type]


def api_usage(fetched_at: datetime) -> Usage:
    return Usage(
        windows=(
            Window("five_hour", "5-hour session", 42.0, fetched_at + timedelta(hours=3)),
            Window("seven_day", "Week (all models)", 18.0, fetched_at + timedelta(days=2)),
            Window("seven_day_opus", "Week (Opus)", 7.0, fetched_at + timedelta(days=2)),
        ),
        extra_usage=ExtraUsage(enabled=True, used=20.5, limit=50.0, currency="USD", percent=41.0),
        fetched_at=fetched_at,
        source="api",
    )


# -- the real CLI, fed like Claude Code feeds it -------------------------------------------------


def test_records_both_windows_in_the_bridge_file_and_prints_the_line(
    env: dict[str, str], paths: AppPaths
) -> None:
    resets = datetime.now(UTC) + timedelta(hours=2, minutes=13)
    resets7 = datetime.now(UTC) + timedelta(days=3)
    before = time.time()
    result = run_cli(
        env, json.dumps(statusline_input(five_resets=resets, seven_resets=resets7)).encode()
    )
    assert result.returncode == 0
    assert result.stdout == f"5h 51% · 7d 15% · resets {hhmm(resets.replace(microsecond=0))}\n"
    assert result.stderr == ""
    data = bridged(paths)
    assert data["version"] == 1
    assert isinstance(data["at"], float)
    assert before <= data["at"] <= time.time()
    assert data["rate_limits"] == {
        "five_hour": {"used_percentage": 51.2, "resets_at": float(int(resets.timestamp()))},
        "seven_day": {"used_percentage": 15.0, "resets_at": float(int(resets7.timestamp()))},
    }
    # The bridge leaves the shared store to the store: no lock, no read-modify-write.
    assert not paths.store_file.exists()
    assert not paths.store_lock.exists()
    assert sorted(p.name for p in paths.state_dir.iterdir()) == [BRIDGE_FILE_NAME]
    if os.name == "posix":
        assert bridge_path(paths).stat().st_mode & 0o777 == 0o600
        assert paths.state_dir.stat().st_mode & 0o777 == 0o700


def test_the_store_reads_the_bridged_numbers(env: dict[str, str], paths: AppPaths) -> None:
    """Store.read() folds the bridge file in (the store's side of the design)."""
    seed(paths, api_usage(datetime.now(UTC) - timedelta(minutes=10)))
    result = run_cli(env, json.dumps(statusline_input(60.0, 20.0)).encode())
    assert result.stdout.startswith("5h 60% · 7d 20% · resets ")
    state = Store(paths).read()
    assert state.snapshot is not None
    assert state.snapshot.source == "statusline"
    assert [(w.id, w.percent) for w in state.snapshot.windows] == [
        ("five_hour", 60.0),
        ("seven_day", 20.0),
        ("seven_day_opus", 7.0),
    ]
    assert state.snapshot.extra_usage is not None
    assert state.snapshot.extra_usage.used == 20.5


def _modules_after_a_run(
    env: dict[str, str], tmp_path: Path, expected_start: str, *args: str
) -> list[str]:
    listing = tmp_path / "modules.json"
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['claude_usage_gauge', 'statusline', *{[*args, *state_dir_args(env)]!r}]\n"
        "try:\n"
        "    runpy.run_module('claude_usage_gauge', run_name='__main__', alter_sys=True)\n"
        "except SystemExit:\n"
        "    pass\n"
        "names = sorted(sys.modules)\n"
        f"open({str(listing)!r}, 'w').write('\\n'.join(names))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(statusline_input()).encode(),
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith(expected_start)
    return listing.read_text().split("\n")


def test_imports_nothing_heavy(env: dict[str, str], tmp_path: Path) -> None:
    """The real entry point, with --then too: none of the heavy modules."""
    modules = _modules_after_a_run(env, tmp_path, "theirs  5h 51%", "--then", "echo theirs")
    assert "claude_usage_gauge.statusline.bridge" in modules
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY_MODULES) == []


def test_the_plain_bridge_imports_almost_nothing(env: dict[str, str], tmp_path: Path) -> None:
    modules = _modules_after_a_run(env, tmp_path, "51\n", "--format", "{five_hour}")
    ours = sorted(m for m in modules if m.startswith("claude_usage_gauge"))
    assert ours == [
        "claude_usage_gauge",
        "claude_usage_gauge.cli",
        "claude_usage_gauge.core",
        "claude_usage_gauge.core.values",
        "claude_usage_gauge.core.window_ids",
        "claude_usage_gauge.files",
        "claude_usage_gauge.folders",
        "claude_usage_gauge.statusline",
        "claude_usage_gauge.statusline.bridge",
        "claude_usage_gauge.statusline.bridge_file",
        "claude_usage_gauge.statusline.line",
        "claude_usage_gauge.statusline.stdin",
    ]
    assert sorted(m for m in modules if m.split(".")[0] in NOT_ON_THE_PLAIN_PATH) == []


def test_importtime_shows_nothing_heavy(env: dict[str, str]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            *("-X", "importtime", "-m", "claude_usage_gauge", "statusline"),
            *state_dir_args(env),
        ],
        input=json.dumps(statusline_input()).encode(),
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    names = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.decode().splitlines()
        if line.startswith("import time:")
    }
    assert "claude_usage_gauge" in names
    assert names.isdisjoint(HEAVY_MODULES)


@pytest.mark.parametrize(
    ("stdin", "why"),
    [
        (b"", "empty"),
        (b"\xff\xfe{not json", "garbage"),
        (b'{"rate_limits": ', "cut short"),
        (b"[1, 2, 3]", "not an object"),
        (json.dumps(statusline_input(rate_limits=False)).encode(), "no rate_limits yet"),
        (
            json.dumps({"rate_limits": {"five_hour": {"used_percentage": "x"}}}).encode(),
            "bad types",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "deep nesting"),
        (b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}', "2 MiB"),
    ],
)
def test_nothing_to_show_prints_nothing(
    env: dict[str, str], paths: AppPaths, stdin: bytes, why: str
) -> None:
    result = run_cli(env, stdin)
    assert result.returncode == 0, why
    assert result.stdout == "", why
    assert NO_TRACEBACK not in result.stderr, why
    assert not bridge_path(paths).exists(), why
    assert not paths.store_file.exists(), why


def test_oversized_input_is_not_recorded(env: dict[str, str], paths: AppPaths) -> None:
    """Over the 1 MiB cap the object is not read at all, even if it holds good rate limits."""
    obj = statusline_input()
    obj["padding"] = "x" * (2 * 1024 * 1024)
    result = run_cli(env, json.dumps(obj).encode())
    assert (result.returncode, result.stdout) == (0, "")
    assert not bridge_path(paths).exists()


def test_only_five_hour(env: dict[str, str], paths: AppPaths) -> None:
    resets = datetime.now(UTC) + timedelta(minutes=90)
    result = run_cli(env, json.dumps(statusline_input(40.0, None, five_resets=resets)).encode())
    assert result.returncode == 0
    assert result.stdout == f"5h 40% · resets {hhmm(resets.replace(microsecond=0))}\n"
    limits = bridged(paths)["rate_limits"]
    assert isinstance(limits, dict)
    assert list(limits) == ["five_hour"]


def test_only_seven_day(env: dict[str, str]) -> None:
    result = run_cli(env, json.dumps(statusline_input(None, 33.0)).encode())
    assert (result.returncode, result.stdout) == (0, "7d 33%\n")


def test_only_the_two_windows_and_numbers_are_recorded(
    env: dict[str, str], paths: AppPaths
) -> None:
    obj = statusline_input(51.0, 15.0)
    limits = obj["rate_limits"]
    assert isinstance(limits, dict)
    limits["five_hour"]["note"] = "x" * 50
    limits["seven_day"]["resets_at"] = "next tuesday"
    limits["seven_day_opus"] = {"used_percentage": 3}
    resets = datetime.fromtimestamp(limits["five_hour"]["resets_at"], UTC)
    assert (
        run_cli(env, json.dumps(obj).encode()).stdout
        == f"5h 51% · 7d 15% · resets {hhmm(resets)}\n"
    )
    assert bridged(paths)["rate_limits"] == {
        "five_hour": {
            "used_percentage": 51.0,
            "resets_at": float(limits["five_hour"]["resets_at"]),
        },
        "seven_day": {"used_percentage": 15.0},
    }


# -- without numbers on stdin: what the bridge file and the store know ----------------------------


def test_without_rate_limits_shows_the_stores_numbers_marked_stale(
    env: dict[str, str], paths: AppPaths
) -> None:
    """Older Claude Code (or no reply yet): the tray's API data still shows, marked old."""
    fetched = datetime.now(UTC) - timedelta(hours=1)
    seed(paths, api_usage(fetched))
    before = paths.store_file.read_bytes()
    result = run_cli(env, json.dumps(statusline_input(rate_limits=False)).encode())
    assert result.returncode == 0
    assert result.stdout == f"5h 42%* · 7d 18% · resets {hhmm(fetched + timedelta(hours=3))}\n"
    assert paths.store_file.read_bytes() == before
    assert not bridge_path(paths).exists()


def test_a_newer_bridge_file_wins_over_the_store(env: dict[str, str], paths: AppPaths) -> None:
    seed(paths, api_usage(datetime.now(UTC) - timedelta(hours=1)))
    assert run_cli(env, json.dumps(statusline_input(61.0, 22.0)).encode()).returncode == 0
    result = run_cli(env, json.dumps(statusline_input(rate_limits=False)).encode())
    assert result.stdout.startswith("5h 61% · 7d 22% · resets ")


def test_a_newer_store_wins_over_the_bridge_file(env: dict[str, str], paths: AppPaths) -> None:
    now = time.time()
    write_bridge(
        paths.state_dir,
        {"five_hour": {"used_percentage": 99.0}, "seven_day": {"used_percentage": 98.0}},
        now - 3600,
    )
    seed(paths, api_usage(datetime.now(UTC) - timedelta(minutes=1)))
    result = run_cli(env, b"")
    assert result.stdout.startswith("5h 42% · 7d 18% · resets ")


def test_windows_missing_from_the_newer_come_from_the_older(
    env: dict[str, str], paths: AppPaths
) -> None:
    seed(paths, api_usage(datetime.now(UTC) - timedelta(minutes=5)))
    write_bridge(paths.state_dir, {"five_hour": {"used_percentage": 70.0}}, time.time())
    assert run_cli(env, b"").stdout == "5h 70% · 7d 18%\n"


def test_an_error_since_the_numbers_marks_them_stale(env: dict[str, str], paths: AppPaths) -> None:
    problem = Problem(kind=ErrorKind.RATE_LIMITED, message="Rate limited")
    seed(paths, api_usage(datetime.now(UTC) - timedelta(minutes=2)), problem)
    assert run_cli(env, b"").stdout.startswith("5h 42%* · 7d 18%")
    # Newer numbers from Claude Code than that error: not stale.
    write_bridge(paths.state_dir, {"five_hour": {"used_percentage": 44.0}}, time.time())
    assert run_cli(env, b"").stdout.startswith("5h 44% · 7d 18%")


STALE_AFTER_SECONDS = stale_after(DEFAULT_POLL_INTERVAL)


@pytest.mark.parametrize(
    ("age", "mark"), [(STALE_AFTER_SECONDS - 60, ""), (STALE_AFTER_SECONDS + 60, "*")]
)
def test_numbers_older_than_two_polls_and_a_minute_are_stale(
    env: dict[str, str], paths: AppPaths, age: float, mark: str
) -> None:
    assert STALE_AFTER_SECONDS == 2 * 180 + 60
    write_bridge(paths.state_dir, {"five_hour": {"used_percentage": 30.0}}, time.time() - age)
    assert run_cli(env, b"").stdout == f"5h 30%{mark}\n"


def test_a_torn_store_or_bridge_file_is_ignored(env: dict[str, str], paths: AppPaths) -> None:
    paths.state_dir.mkdir(parents=True)
    paths.store_file.write_bytes(b'{"version": 1, "salt": "ab')
    bridge_path(paths).write_bytes(b'{"version": 1, "at": 1')
    result = run_cli(env, b"{}")
    assert (result.returncode, result.stdout) == (0, "")
    assert NO_TRACEBACK not in result.stderr
    result = run_cli(env, json.dumps(statusline_input(5.0, 1.0)).encode())
    assert result.stdout.startswith("5h 5% · 7d 1%")
    assert read_bridge(bridge_path(paths)) is not None


# -- writing: how often, and when it cannot --------------------------------------------------


def test_same_numbers_moments_later_are_not_rewritten(env: dict[str, str], paths: AppPaths) -> None:
    stdin = json.dumps(statusline_input(51.0, 15.0)).encode()
    assert run_cli(env, stdin).returncode == 0
    first = bridge_path(paths).read_bytes()
    assert run_cli(env, stdin).stdout.startswith("5h 51% · 7d 15%")
    assert bridge_path(paths).read_bytes() == first
    assert run_cli(env, json.dumps(statusline_input(52.0, 15.0)).encode()).stdout.startswith(
        "5h 52%"
    )
    assert bridge_path(paths).read_bytes() != first


def _bridge_at(paths: AppPaths, obj: dict[str, object], now: float) -> float:
    stdin = io.BytesIO(json.dumps(obj).encode())
    out = io.StringIO()
    assert bridge_command(stdin=stdin, stdout=out, now=now, state_dir=paths.state_dir) == 0
    assert out.getvalue().startswith("5h ")
    at = bridged(paths)["at"]
    assert isinstance(at, float)
    return at


def test_the_same_numbers_are_rewritten_after_twenty_seconds(paths: AppPaths) -> None:
    now = time.time()
    obj = statusline_input(51.0, 15.0)
    assert _bridge_at(paths, obj, now) == now
    assert _bridge_at(paths, obj, now + 19) == now
    assert _bridge_at(paths, obj, now + 21) == now + 21
    # A clock that went back: the file's time is not trusted to mean "moments ago".
    assert _bridge_at(paths, obj, now - 100) == now - 100


def test_a_moved_reset_time_is_rewritten(paths: AppPaths) -> None:
    now = time.time()
    resets = datetime.now(UTC) + timedelta(hours=2)
    assert _bridge_at(paths, statusline_input(51.0, 15.0, five_resets=resets), now) == now
    moved = resets + timedelta(seconds=30)
    assert _bridge_at(paths, statusline_input(51.0, 15.0, five_resets=moved), now + 1) == now
    moved = resets + timedelta(minutes=5)
    assert _bridge_at(paths, statusline_input(51.0, 15.0, five_resets=moved), now + 2) == now + 2
    assert _bridge_at(paths, statusline_input(51.0, None, five_resets=moved), now + 3) == now + 3


def test_a_held_store_lock_does_not_matter(env: dict[str, str], paths: AppPaths) -> None:
    """Another process mid-request holds the store lock: the bridge neither waits nor fails."""
    import filelock

    seed(paths, api_usage(datetime.now(UTC) - timedelta(minutes=10)))
    before = paths.store_file.read_bytes()
    with filelock.FileLock(str(paths.store_lock)):
        result = run_cli(env, json.dumps(statusline_input(77.0, 30.0)).encode())
    assert result.returncode == 0
    assert result.stdout.startswith("5h 77% · 7d 30% · resets ")
    assert NO_TRACEBACK not in result.stderr
    assert paths.store_file.read_bytes() == before
    assert read_bridge(bridge_path(paths)) is not None


def test_an_unwritable_state_directory_still_prints(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the state directory should be")
    result = run_cli(env, json.dumps(statusline_input(12.0, 3.0)).encode())
    assert result.returncode == 0
    assert result.stdout.startswith("5h 12% · 7d 3% · resets ")
    assert NO_TRACEBACK not in result.stderr
    assert result.stderr == ""


# -- --format -------------------------------------------------------------------------------


def test_format_template(env: dict[str, str]) -> None:
    resets7 = datetime.now(UTC) + timedelta(days=3)
    stdin = json.dumps(statusline_input(51.6, 15.2, seven_resets=resets7)).encode()
    result = run_cli(
        env, stdin, "--format", "S{five_hour}% W{seven_day}%{stale} [{seven_day_resets}]"
    )
    assert result.returncode == 0
    assert result.stdout == f"S52% W15% [{hhmm(resets7.replace(microsecond=0))}]\n"


def test_format_with_equals(env: dict[str, str]) -> None:
    result = run_cli(env, json.dumps(statusline_input(51.0, 15.0)).encode(), "--format={seven_day}")
    assert (result.returncode, result.stdout) == (0, "15\n")


@pytest.mark.parametrize("template", ["{nope}", "{0}", "{five_hour:d}", "{five_hour.x}", "{", "}"])
def test_a_bad_template_falls_back_to_the_default(env: dict[str, str], template: str) -> None:
    result = run_cli(env, json.dumps(statusline_input(51.0, 15.0)).encode(), "--format", template)
    assert result.returncode == 0
    assert result.stdout.startswith("5h 51% · 7d 15% · resets ")
    assert NO_TRACEBACK not in result.stderr


def test_a_template_with_no_data_prints_nothing(env: dict[str, str]) -> None:
    result = run_cli(env, b"{}", "--format", "usage {five_hour}%")
    assert (result.returncode, result.stdout) == (0, "")


# -- the command line: never a usage error ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected_start"),
    [
        (("--bogus",), "5h 51% · 7d 15% · resets "),
        (("--format",), "5h 51% · 7d 15% · resets "),
        (("--then",), "5h 51% · 7d 15% · resets "),
        (("extra", "words", "-x"), "5h 51% · 7d 15% · resets "),
        (("--then=", "--format="), "5h 51% · 7d 15% · resets "),
        (("--format", "install"), "install\n"),
    ],
)
def test_an_odd_command_line_still_prints_the_line(
    env: dict[str, str], args: tuple[str, ...], expected_start: str
) -> None:
    result = run_cli(env, json.dumps(statusline_input(51.0, 15.0)).encode(), *args)
    assert result.returncode == 0
    assert result.stdout.startswith(expected_start)
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], (None, None)),
        (["--format", "F", "--then", "T"], ("F", "T")),
        (["--format=F=G", "--then=a b"], ("F=G", "a b")),
        (["--then", "--format"], (None, "--format")),
        (["--format"], (None, None)),
        (["--unknown", "x", "--format", "F"], ("F", None)),
        (["--format", "help", "-v"], ("help", None)),
        (["install"], None),
        (["uninstall", "--dry-run"], None),
        (["--format", "F", "install"], None),
        (["-h"], None),
        (["--help"], None),
    ],
)
def test_parse_bridge_args(args: list[str], expected: tuple[str | None, str | None] | None) -> None:
    parsed = parse_bridge_args(args)
    assert (None if parsed is None else (parsed.template, parsed.then_cmd)) == expected


def test_parse_bridge_args_takes_the_state_dir() -> None:
    parsed = parse_bridge_args(["--state-dir", "/s t", "--format=F"])
    assert parsed is not None
    assert (parsed.state_dir, parsed.template) == ("/s t", "F")


def test_help_and_install_still_reach_the_full_command_line(env: dict[str, str]) -> None:
    helped = run_cli(env, b"", "--help")
    assert helped.returncode == 0
    assert "install" in helped.stdout
    dry = run_cli(env, b"", "install", "--dry-run")
    assert dry.returncode == 0
    assert dry.stdout.startswith("Dry run: nothing was written.")


# -- --then ---------------------------------------------------------------------------------


def test_then_output_comes_first_on_the_same_line(env: dict[str, str]) -> None:
    result = run_cli(
        env, json.dumps(statusline_input(51.0, 15.0)).encode(), "--then", "echo theirs"
    )
    assert result.returncode == 0
    assert result.stdout.startswith("theirs  5h 51% · 7d 15% · resets ")
    assert result.stdout.count("\n") == 1


def test_then_gets_the_same_stdin(env: dict[str, str]) -> None:
    reader = f"{shlex.quote(sys.executable)} -c " + shlex.quote(
        'import sys, json; print(json.load(sys.stdin)["model"]["display_name"])'
    )
    result = run_cli(env, json.dumps(statusline_input(51.0, 15.0)).encode(), "--then", reader)
    assert result.returncode == 0
    assert result.stdout.startswith("Opus  5h 51%")


def test_then_with_several_lines_puts_ours_below(env: dict[str, str]) -> None:
    result = run_cli(
        env, json.dumps(statusline_input(51.0, 15.0)).encode(), "--then", "printf 'a\\nb\\n'"
    )
    lines = result.stdout.splitlines()
    assert lines[:2] == ["a", "b"]
    assert lines[2].startswith("5h 51%")


@pytest.mark.parametrize(
    ("command", "expected_start"),
    [
        ("exit 3", "5h 51%"),
        ("no-such-command-here-xyz", "5h 51%"),
        ("echo partial; exit 1", "partial  5h 51%"),
        ("echo on-stderr >&2", "5h 51%"),
    ],
)
def test_then_failing_never_fails_us(
    env: dict[str, str], command: str, expected_start: str
) -> None:
    result = run_cli(env, json.dumps(statusline_input(51.0, 15.0)).encode(), "--then", command)
    assert result.returncode == 0
    assert result.stdout.startswith(expected_start)
    assert "on-stderr" not in result.stdout


def test_then_alone_when_we_have_nothing(env: dict[str, str]) -> None:
    result = run_cli(env, b"{}", "--then", "echo theirs")
    assert (result.returncode, result.stdout) == (0, "theirs\n")


def _gone(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True
    return fields[0] == "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to see the process")
def test_a_hanging_then_is_killed_with_its_children(env: dict[str, str], tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    env[THEN_TIMEOUT_ENV] = "1"
    hang = f"sleep 60 & echo $! > {shlex.quote(str(pid_file))}; wait; echo late"
    result = run_cli(
        env, json.dumps(statusline_input(51.0, 15.0)).encode(), "--then", hang, timeout=20
    )
    assert result.returncode == 0
    assert result.stdout.startswith("5h 51%")
    assert "late" not in result.stdout
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)


def test_then_timeout_only_shortens() -> None:
    assert then_timeout(None) == THEN_TIMEOUT_SECONDS
    assert then_timeout("1.5") == 1.5
    assert then_timeout("600") == THEN_TIMEOUT_SECONDS
    assert then_timeout("-1") == THEN_TIMEOUT_SECONDS
    assert then_timeout("soon") == THEN_TIMEOUT_SECONDS


# -- in-process: the pure parts and the injectables ----------------------------------------------


def test_line_fields_and_default_line() -> None:
    now = time.time()
    known = Known({"five_hour": (42.0, now + 3 * 3600), "seven_day": (18.4, now + 2 * 86400)}, now)
    fields = line_fields(known, now)
    assert fields == {
        "five_hour": "42",
        "seven_day": "18",
        "five_hour_resets": hhmm(datetime.fromtimestamp(now + 3 * 3600, UTC)),
        "seven_day_resets": hhmm(datetime.fromtimestamp(now + 2 * 86400, UTC)),
        "stale": "",
    }
    assert default_line(fields) == f"5h 42% · 7d 18% · resets {fields['five_hour_resets']}"
    stale = Known(known.windows, now - 7200, stale=True)
    assert render_line(stale, now).startswith("5h 42%* · 7d 18%")


def test_clock_names_the_day_only_when_it_is_not_today() -> None:
    noon = time.mktime((2030, 1, 2, 12, 0, 0, 0, 0, -1))
    assert local_clock(noon + 3600, noon) == "13:00"
    assert local_clock(noon + 86400, noon) == "Thu 12:00"
    assert local_clock(1e300, noon) is None


def test_a_passed_reset_reads_zero() -> None:
    now = time.time()
    known = Known({"five_hour": (80.0, now - 60)}, now - 120)
    assert render_line(known, now) == "5h 0%"


def test_odd_percents_render_sensibly() -> None:
    now = time.time()
    assert render_line(Known({"five_hour": (-0.2, None)}, now), now) == "5h 0%"
    assert render_line(Known({"seven_day": (100.5, None)}, now), now) == "7d 100%"


def test_nothing_known_renders_nothing() -> None:
    now = time.time()
    assert render_line(None, now) == ""
    assert render_line(Known({}, now), now, "{five_hour}") == ""


@pytest.mark.parametrize(
    ("theirs", "ours", "expected"),
    [
        (None, "5h 1%", "5h 1%"),
        ("", "5h 1%", "5h 1%"),
        ("mine\n", "5h 1%", "mine  5h 1%"),
        ("a\nb\n", "5h 1%", "a\nb\n5h 1%"),
        ("mine\r\n", "", "mine"),
        (None, "", ""),
    ],
)
def test_combine(theirs: str | None, ours: str, expected: str) -> None:
    assert combine(theirs, ours) == expected


def test_bridge_in_process_with_injectables(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    out = io.StringIO()
    obj = statusline_input(
        51.0, 15.0, five_resets=now + timedelta(hours=1), seven_resets=now + timedelta(days=1)
    )
    stdin = io.BytesIO(json.dumps(obj).encode())
    code = bridge_command(stdin=stdin, stdout=out, now=now.timestamp(), state_dir=paths.state_dir)
    assert code == 0
    expected_clock = local_clock((now + timedelta(hours=1)).timestamp(), now.timestamp())
    assert out.getvalue() == f"5h 51% · 7d 15% · resets {expected_clock}\n"
    assert bridged(paths)["at"] == now.timestamp()


def test_a_bridge_without_state_dir_finds_the_stores_folder(
    env: dict[str, str], paths: AppPaths
) -> None:
    """A hand-made statusLine entry without --state-dir: platformdirs finds the same folder."""
    result = run_cli(env, json.dumps(statusline_input()).encode(), named_state_dir=False)
    assert result.stdout.startswith("5h 51%")
    assert bridge_path(paths).is_file()


def test_bridge_in_process_survives_a_failing_stdout(tmp_path: Path) -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    stdin = io.BytesIO(json.dumps(statusline_input()).encode())
    state_dir = _paths(tmp_path).state_dir
    assert bridge_command(stdin=stdin, stdout=Broken(), state_dir=state_dir) == 0


def test_bridge_in_process_survives_anything(tmp_path: Path) -> None:
    class Exploding(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise RuntimeError("boom")

    out = io.StringIO()
    state_dir = _paths(tmp_path).state_dir
    assert bridge_command(stdin=Exploding(), stdout=out, state_dir=state_dir) == 0
    assert out.getvalue() == ""


def test_tty_stdin_is_not_read(env: dict[str, str], paths: AppPaths) -> None:
    """Run by hand in a terminal it does not wait for input: it shows what the store has."""
    if os.name != "posix":
        pytest.skip("pseudo-terminals are POSIX")
    import pty

    seed(paths, api_usage(datetime.now(UTC)))
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "claude_usage_gauge", "statusline"],
            stdin=follower,
            env=env,
            capture_output=True,
            timeout=20,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 0
    assert result.stdout.decode().startswith("5h 42% · 7d 18%")


def test_a_pipe_nobody_closes_is_given_up_on(env: dict[str, str], paths: AppPaths) -> None:
    """Half an object and an open pipe: after the wait it shows what it knows, and exits 0."""
    seed(paths, api_usage(datetime.now(UTC)))
    process = subprocess.Popen(
        [sys.executable, "-m", "claude_usage_gauge", "statusline"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(b'{"rate_limits": {"five_hour": ')
        process.stdin.flush()
        # It exits on its own while the pipe is still open (its output fits the pipe buffer).
        assert process.wait(timeout=20) == 0
    finally:
        process.stdin.close()
        if process.poll() is None:
            process.kill()
    assert process.stdout.read().decode().startswith("5h 42% · 7d 18%")
    process.stdout.close()
