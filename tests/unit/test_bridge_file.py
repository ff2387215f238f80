"""The bridge file: where it lives (held to platformdirs), its JSON reader, its atomic writes."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.usage_parser import parse_statusline
from claude_usage_gauge.statusline import bridge_file
from claude_usage_gauge.statusline.bridge_file import (
    BRIDGE_FILE_NAME,
    MAX_BRIDGE_BYTES,
    loads,
    read_bridge,
    render_bridge,
    sanitize_rate_limits,
    write_bridge,
)

LIMITS = {
    "five_hour": {"used_percentage": 51.2, "resets_at": 1767225600.0},
    "seven_day": {"used_percentage": 15.0, "resets_at": 1767484800.0},
}

# -- JSON, read with the interpreter's scanner ---------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values, st.sampled_from(["", " ", "\n\t ", "\r\n"]))
def test_loads_reads_what_json_reads(value: object, space: str) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        data = f"{space}{text}{space}".encode()
        assert loads(data) == json.loads(data)


@pytest.mark.parametrize(
    "text",
    ["", " ", "{", '{"a": 1', "[1,]", "{} {}", "1 2", '"\x01"', "nul", "{'a': 1}", "\ufeff{}"],
)
def test_loads_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json's own messages vary
        json.loads(text)
    with pytest.raises(ValueError):  # noqa: PT011
        loads(text.encode())


def test_loads_refuses_with_a_proper_error_in_a_fresh_interpreter() -> None:
    """Where json's Python half is not loaded yet, the C scanner cannot raise its own error."""
    code = (
        "import sys\n"
        "from claude_usage_gauge.statusline.bridge_file import loads\n"
        "assert 'json.decoder' not in sys.modules\n"
        "for text in (b'[1', b'{\"a\": 1', b'{} {}', b''):\n"
        "    try:\n"
        "        loads(text)\n"
        "    except ValueError as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["JSONDecodeError"] * 4


def test_loads_refuses_text_that_is_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        loads(b'{"a": "\xff"}')


def test_loads_reads_non_finite_numbers_as_json_does() -> None:
    value = loads(b"[NaN, Infinity, -Infinity]")
    assert isinstance(value, list)
    assert math.isnan(value[0])
    assert value[1:] == [math.inf, -math.inf]


def test_loads_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(RecursionError):
        loads(b"[" * 100_000 + b"]" * 100_000)


# -- cleaning Claude Code's numbers ------------------------------------------------------------


def test_sanitize_keeps_the_two_windows_and_their_two_numbers() -> None:
    raw = {
        "five_hour": {"used_percentage": 51, "resets_at": 1767225600, "extra": "x"},
        "seven_day": {"used_percentage": 15.5, "resets_at": "2026-01-01T00:00:00Z"},
        "seven_day_opus": {"used_percentage": 3},
        "note": "ignored",
    }
    assert sanitize_rate_limits(raw) == {
        "five_hour": {"used_percentage": 51.0, "resets_at": 1767225600.0},
        "seven_day": {"used_percentage": 15.5},
    }


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        {},
        {"five_hour": None},
        {"five_hour": {"used_percentage": True}},
        {"five_hour": {"used_percentage": "51"}},
        {"five_hour": {"used_percentage": float("nan")}},
        {"five_hour": {"used_percentage": float("inf")}},
        {"five_hour": {"used_percentage": 10**400}},
        {"seven_day": {"resets_at": 1767225600}},
    ],
)
def test_sanitize_finds_nothing_usable(raw: object) -> None:
    assert sanitize_rate_limits(raw) is None


# -- the file ----------------------------------------------------------------------------------


def test_write_then_read(tmp_path: Path) -> None:
    state_dir = tmp_path / "state" / APP_NAME
    path = write_bridge(state_dir, LIMITS, 1767220000.25)
    assert path == str(state_dir / BRIDGE_FILE_NAME)
    expected = {"version": 1, "at": 1767220000.25, "rate_limits": LIMITS}
    assert json.loads(Path(path).read_bytes()) == expected
    assert read_bridge(path) == expected
    assert [p.name for p in state_dir.iterdir()] == [BRIDGE_FILE_NAME]
    if os.name == "posix":
        assert Path(path).stat().st_mode & 0o777 == 0o600
        assert state_dir.stat().st_mode & 0o777 == 0o700


def test_the_store_parser_reads_the_file_as_it_is(tmp_path: Path) -> None:
    """The store folds the file in with `usage.parse_statusline`: the object is its input."""
    path = write_bridge(tmp_path, LIMITS, 1767220000.0)
    data = read_bridge(path)
    received = datetime.fromtimestamp(1767220000.0, UTC)
    usage = parse_statusline(data, received)
    assert usage is not None
    assert usage.source == "statusline"
    assert usage.fetched_at == received
    assert [(w.id, w.percent, w.resets_at) for w in usage.windows] == [
        ("five_hour", 51.2, datetime.fromtimestamp(1767225600, UTC)),
        ("seven_day", 15.0, datetime.fromtimestamp(1767484800, UTC)),
    ]


def test_a_window_without_reset_time(tmp_path: Path) -> None:
    path = write_bridge(tmp_path, {"seven_day": {"used_percentage": 7.0}}, 5.0)
    assert read_bridge(path) == {
        "version": 1,
        "at": 5.0,
        "rate_limits": {"seven_day": {"used_percentage": 7.0}},
    }


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_an_existing_directory_is_made_private(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    state_dir = tmp_path / APP_NAME
    state_dir.mkdir()
    state_dir.chmod(0o755)
    write_bridge(state_dir, LIMITS, 1.0)
    assert state_dir.stat().st_mode & 0o777 == 0o700
    assert tmp_path.stat().st_mode & 0o777 == 0o755  # a parent is not ours: left alone


def test_replacing_keeps_one_file_and_no_temp_files(tmp_path: Path) -> None:
    for i in range(5):
        write_bridge(tmp_path, {"five_hour": {"used_percentage": float(i)}}, float(i))
    assert [p.name for p in tmp_path.iterdir()] == [BRIDGE_FILE_NAME]
    data = read_bridge(tmp_path / BRIDGE_FILE_NAME)
    assert data is not None
    assert data["at"] == 4.0


def test_an_unwritable_place_raises_oserror_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the directory should be")
    with pytest.raises((FileExistsError, NotADirectoryError)):
        write_bridge(blocker / APP_NAME, LIMITS, 1.0)
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


def test_many_writers_at_once_leave_one_whole_file(tmp_path: Path) -> None:
    """Last writer wins: whichever it is, the file is whole and no temp file is left behind."""
    code = (
        "import sys\n"
        "from claude_usage_gauge.statusline.bridge_file import write_bridge\n"
        "n = int(sys.argv[2])\n"
        "for i in range(40):\n"
        "    write_bridge(sys.argv[1], {'five_hour': {'used_percentage': float(n)}}, n + i / 100)\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(n)]) for n in range(6)
    ]
    assert [w.wait(timeout=60) for w in writers] == [0] * 6
    assert [p.name for p in tmp_path.iterdir()] == [BRIDGE_FILE_NAME]
    data = read_bridge(tmp_path / BRIDGE_FILE_NAME)
    assert data is not None
    limits = data["rate_limits"]
    assert isinstance(limits, dict)
    assert data["at"] == limits["five_hour"]["used_percentage"] + 0.39


def _bridge_text(
    version: int = 1,
    at: str = "1.0",
    limits: str = '{"five_hour": {"used_percentage": 1}}',
    pad: str = "",
) -> bytes:
    return f'{{"version": {version}, "at": {at}, "rate_limits": {limits}, "pad": "{pad}"}}'.encode()


def test_the_helper_makes_a_good_file_by_default(tmp_path: Path) -> None:
    path = tmp_path / BRIDGE_FILE_NAME
    path.write_bytes(_bridge_text())
    assert read_bridge(path) is not None


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "empty"),
        (b'{"version": 1, "at": 1.0, "rate_li', "torn"),
        (b"\x00\xff garbage", "garbage"),
        (b"[]", "not an object"),
        (_bridge_text(version=2), "another version"),
        (_bridge_text(at='"now"'), "no time"),
        (_bridge_text(limits="{}"), "no windows"),
        (_bridge_text(pad="x" * MAX_BRIDGE_BYTES), "oversized"),
    ],
)
def test_reading_anything_else_is_none(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / BRIDGE_FILE_NAME
    path.write_bytes(content)
    assert read_bridge(path) is None, why


def test_reading_a_missing_file_or_a_directory_is_none(tmp_path: Path) -> None:
    assert read_bridge(tmp_path / BRIDGE_FILE_NAME) is None
    assert read_bridge(tmp_path) is None


def test_read_cleans_what_it_returns(tmp_path: Path) -> None:
    path = tmp_path / BRIDGE_FILE_NAME
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "at": 10,
                "extra": True,
                "rate_limits": {"five_hour": {"used_percentage": 3, "resets_at": None}},
            }
        )
    )
    assert read_bridge(path) == {
        "version": 1,
        "at": 10.0,
        "rate_limits": {"five_hour": {"used_percentage": 3.0}},
    }


@given(
    st.dictionaries(
        st.sampled_from(["five_hour", "seven_day"]),
        st.fixed_dictionaries(
            {"used_percentage": st.floats(allow_nan=False, allow_infinity=False)},
            optional={"resets_at": st.floats(allow_nan=False, allow_infinity=False)},
        ),
        min_size=1,
    ),
    st.floats(min_value=0, max_value=4e9),
)
def test_rendered_file_is_json_that_reads_back_the_same(
    limits: bridge_file.RateLimits, at: float
) -> None:
    data = render_bridge(limits, at)
    assert json.loads(data) == {"version": 1, "at": at, "rate_limits": limits}
    assert bridge_file.parse_bridge(loads(data)) == {"version": 1, "at": at, "rate_limits": limits}
