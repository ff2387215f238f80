"""One request serves everyone: many `status` processes started at once share the store, so the
server sees one request (or none while the store is fresh), and every process shows the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, rate_limited, usage_body
from tests.support.cli_home import CliHome, assert_status_shape, error_kind, seed_home

PROCESSES = 8
SLOW = 1.0  # the fake takes this long to answer, so every process starts while it is busy


def _json_statuses(home: CliHome, *args: str) -> list[tuple[int, dict[str, object]]]:
    import json

    results = home.run_many([["status", "--json", *args]] * PROCESSES)
    home.assert_clean(*results)
    parsed: list[tuple[int, dict[str, object]]] = []
    for proc in results:
        data = json.loads(proc.stdout)
        assert_status_shape(data)
        parsed.append((proc.returncode, data))
    return parsed


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[CliHome, dict[str, object]]:
    return seed_home(tmp_path_factory.mktemp("seeded") / "home")


def test_simultaneous_status_on_an_empty_store_asks_once(tmp_path: Path) -> None:
    slow = Reply(200, usage_body(61.0, 27.0), delay=SLOW)
    with FakeUsageAPI(default=slow) as fake:
        home = CliHome(tmp_path / "home", fake.url)
        home.write_credentials()

        results = _json_statuses(home)

        assert fake.request_count == 1
    first = results[0][1]
    assert first["error"] is None
    windows = first["windows"]
    assert isinstance(windows, list)
    assert {w["id"]: w["percent"] for w in windows} == {"five_hour": 61.0, "seven_day": 27.0}
    for code, data in results:
        assert code == 0, data
        assert data["windows"] == windows
        assert data["fetched_at"] == first["fetched_at"]


def test_simultaneous_status_on_a_fresh_store_asks_nobody(
    tmp_path: Path, seeded: tuple[CliHome, dict[str, object]]
) -> None:
    with FakeUsageAPI() as fake:
        home = seeded[0].clone(tmp_path / "home", fake.url)

        results = _json_statuses(home)

        assert fake.request_count == 0
    for code, data in results:
        assert code == 0
        assert data["windows"] == seeded[1]["windows"]
        assert data["fetched_at"] == seeded[1]["fetched_at"]


def test_simultaneous_manual_refreshes_ask_once(
    tmp_path: Path, seeded: tuple[CliHome, dict[str, object]]
) -> None:
    slow = Reply(200, usage_body(70.0, 30.0), delay=SLOW)
    with FakeUsageAPI(default=slow) as fake:
        home = seeded[0].clone(tmp_path / "home", fake.url)

        results = _json_statuses(home, "--refresh")

        assert fake.request_count == 1
    for code, data in results:
        assert code == 0
        assert data["error"] is None
        windows = data["windows"]
        assert isinstance(windows, list)
        assert {w["id"]: w["percent"] for w in windows} == {"five_hour": 70.0, "seven_day": 30.0}


def test_simultaneous_status_meets_one_rate_limit(tmp_path: Path) -> None:
    limited = rate_limited("0")
    slow_429 = Reply(limited.status, limited.body, limited.headers, delay=SLOW)
    with FakeUsageAPI(default=slow_429) as fake:
        home = CliHome(tmp_path / "home", fake.url)
        home.write_credentials()

        results = _json_statuses(home)

        assert fake.request_count == 1
    retry_at = {str(data["error"]["retry_at"]) for _, data in results}  # type: ignore[index]
    assert len(retry_at) == 1
    for code, data in results:
        assert code == 1
        assert error_kind(data) == "rate_limited"


def test_simultaneous_status_without_credentials(tmp_path: Path) -> None:
    with FakeUsageAPI() as fake:
        home = CliHome(tmp_path / "home", fake.url)  # never signed in

        results = _json_statuses(home)

        assert fake.request_count == 0
    for code, data in results:
        assert code == 1
        assert error_kind(data) == "no_credentials"
    # Eight writers at once leave one whole state file behind, which the next reader understands.
    after, data = home.status_json()
    assert after.returncode == 1
    assert error_kind(data) == "no_credentials"
