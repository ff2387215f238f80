"""The core decides and does no I/O: it imports nothing from the shells and no I/O library.

Walks every module under `core/` with `ast` (imports inside functions count too), so the rule
cannot rot silently as modules are added.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "claude_usage_gauge" / "core"

# Libraries that do I/O or start threads, and the shells' own third-party stack.
FORBIDDEN_TOP_LEVEL = frozenset(
    {
        "asyncio",
        "dbus_fast",
        "filelock",
        "gi",
        "httpx",
        "jeepney",
        "keyring",
        "os",
        "pathlib",
        "platformdirs",
        "pystray",
        "select",
        "shutil",
        "signal",
        "socket",
        "ssl",
        "subprocess",
        "tempfile",
        "threading",
        "truststore",
        "urllib",
    }
)
# The one outside library the core may use: the gauge draws an image in memory with Pillow.
ALLOWED_THIRD_PARTY = frozenset({"PIL"})


def _core_modules() -> list[Path]:
    return sorted(CORE.glob("*.py"))


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            names.append(node.module or "")
    return names


def test_the_core_has_modules_to_check() -> None:
    assert len(_core_modules()) >= 10


def _offending_imports(path: Path) -> list[str]:
    bad: list[str] = []
    for name in _imports(path):
        top = name.split(".")[0]
        if top == "claude_usage_gauge":
            ok = name.split(".")[1:2] == ["core"]
        else:
            ok = top not in FORBIDDEN_TOP_LEVEL and (
                top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY
            )
        if not ok:
            bad.append(name)
    return bad


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.name)
def test_a_core_module_imports_only_the_core_and_pure_libraries(path: Path) -> None:
    assert _offending_imports(path) == [], f"{path.name} reaches outside the core"


def test_the_check_catches_a_shell_import(tmp_path: Path) -> None:
    """The rule itself: a module that reaches into the store or httpx is reported."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\nimport httpx\nfrom claude_usage_gauge.core.usage import Usage\n"
        "def f():\n    from claude_usage_gauge.store import Store\n    import threading\n"
    )
    assert _offending_imports(sample) == ["httpx", "claude_usage_gauge.store", "threading"]
