"""The core never imports I/O, clocks, randomness, threads or logging (STYLE.md §13)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "webcast_proto"
FORBIDDEN = {
    "socket", "ssl", "asyncio", "trio", "anyio", "threading", "time", "random", "logging",
    "httpcore", "h11", "wsproto", "selectors", "subprocess", "os",
}  # fmt: skip
MODULES = sorted(p for p in CORE.rglob("*.py") if "_pb" not in p.parts)


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_modules_found() -> None:
    """The walk below sees the core's modules (guards against a wrong path making it vacuous)."""
    names = {p.name for p in MODULES}
    assert {"__init__.py", "events.py", "config.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_io(path: Path) -> None:
    """Each core module imports none of the forbidden I/O, clock or randomness modules."""
    bad = _imported_roots(path) & FORBIDDEN
    assert not bad, f"{path.name} imports {sorted(bad)}"
