"""The Xvfb desktop the e2e tests run the real tray in, and where they leave their pictures."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.testing.desktop import Desktop, Host, missing_tools, running_desktop

# Screenshots and measurements the e2e tests leave for people to look at.
ARTIFACTS = Path(os.environ.get("CLAUDE_USAGE_GAUGE_ARTIFACTS", "artifacts")) / "e2e"


@contextlib.contextmanager
def e2e_desktop(workdir: Path, host: Host = "trayer") -> Iterator[Desktop]:
    """A running desktop with `host` as its tray. Without its tools the test fails in CI
    (scripts/test installs them; a run without them must not pass silently) and is skipped
    elsewhere."""
    missing = missing_tools(host)
    if missing:
        message = f"tray host tools missing: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with running_desktop(workdir, host=host) as running:
        yield running
