"""The LaunchAgent, round-tripped through real plist files in a temporary home (any OS)."""

from __future__ import annotations

import plistlib
import stat
from pathlib import Path

from claude_usage_gauge.desktop.autostart import AutostartState, autostart_for
from claude_usage_gauge.desktop.autostart._macos import LABEL, LaunchAgent, agent_path

BUNDLE = ["/Applications/Claude Usage Gauge.app/Contents/MacOS/claude-usage-gauge"]


def agent(home: Path, command: list[str] = BUNDLE, calls: list[str] | None = None) -> LaunchAgent:
    return LaunchAgent(command, home=home, allow_label=None if calls is None else calls.append)


def test_autostart_for_darwin_is_a_launch_agent_in_the_users_library(tmp_path: Path) -> None:
    made = autostart_for("darwin", home=tmp_path, command=BUNDLE)

    assert isinstance(made, LaunchAgent)
    assert made.path == tmp_path / "Library" / "LaunchAgents" / "com.claude-usage-gauge.agent.plist"
    assert made.location == str(made.path)


def test_enable_writes_the_plist_launchd_expects(tmp_path: Path) -> None:
    calls: list[str] = []
    auto = agent(tmp_path, calls=calls)

    status = auto.enable()

    with agent_path(tmp_path).open("rb") as handle:
        written = plistlib.load(handle)
    assert written == {
        "Label": LABEL,
        "ProgramArguments": BUNDLE,
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    assert status.state is AutostartState.ENABLED
    assert BUNDLE[0] in status.detail
    assert calls == [LABEL]
    # launchd refuses agents that others can write.
    assert stat.S_IMODE(agent_path(tmp_path).stat().st_mode) == 0o644


def test_round_trip_enable_status_disable(tmp_path: Path) -> None:
    auto = agent(tmp_path)
    assert auto.status().state is AutostartState.DISABLED

    auto.enable()
    assert auto.status().state is AutostartState.ENABLED

    assert auto.disable().detail == "The entry was removed."
    assert not auto.path.exists()
    assert auto.status().state is AutostartState.DISABLED
    assert auto.disable().detail == "There was no entry to remove."


def test_disable_leaves_other_agents_alone(tmp_path: Path) -> None:
    auto = agent(tmp_path)
    auto.enable()
    other = auto.path.parent / "com.example.other.plist"
    other.write_bytes(plistlib.dumps({"Label": "com.example.other"}))

    auto.disable()

    assert other.exists()


def test_agent_for_another_program_is_reported_and_repaired(tmp_path: Path) -> None:
    agent(tmp_path, ["/Users/me/old/claude-usage-gauge", "tray"]).enable()
    auto = agent(tmp_path)

    found = auto.status()
    assert found.state is AutostartState.DIFFERENT

    assert auto.enable().state is AutostartState.ENABLED
    with auto.path.open("rb") as handle:
        assert plistlib.load(handle)["ProgramArguments"] == BUNDLE


def test_paths_with_spaces_and_quotes_are_kept_exactly(tmp_path: Path) -> None:
    command = ['/Users/o\'neil/My "Apps"/claude usage gauge', "--flag=a b"]
    auto = agent(tmp_path, command)

    assert auto.enable().state is AutostartState.ENABLED
    with auto.path.open("rb") as handle:
        assert plistlib.load(handle)["ProgramArguments"] == command


def test_an_agent_changed_in_place_is_different_and_enable_rewrites_it(tmp_path: Path) -> None:
    """Disabled by hand, edited, or garbage: anything but our plist to the byte is reported."""
    auto = agent(tmp_path)
    auto.enable()
    ours = auto.path.read_bytes()
    data = plistlib.loads(ours)
    for changed in (
        plistlib.dumps({**data, "Disabled": True}),
        b"not a plist",
        plistlib.dumps(["a", "list"]),
        plistlib.dumps({"Label": LABEL, "Program": BUNDLE[0]}),
    ):
        auto.path.write_bytes(changed)
        assert auto.status().state is AutostartState.DIFFERENT
        assert auto.enable().state is AutostartState.ENABLED
        assert auto.path.read_bytes() == ours
