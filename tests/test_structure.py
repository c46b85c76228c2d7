"""Code-shape rules of the project that a reviewer would otherwise check by eye."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mnist_cli

PACKAGE = Path(mnist_cli.__file__).parent
MAX_FUNCTION_LINES = 60  # HELPERS.md: functions short, none over 60 lines


def long_functions(root: Path, limit: int) -> list[str]:
    """`path:line name (N lines)` for every function or method longer than `limit` lines,
    counted from its `def` (decorators excluded) to its last line."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} "
                                 f"{node.name} ({lines} lines)")
    return found


@pytest.mark.slow
def test_no_function_is_longer_than_60_lines() -> None:
    assert long_functions(PACKAGE, MAX_FUNCTION_LINES) == []


def test_long_function_finder_counts_lines(tmp_path: Path) -> None:
    """The finder itself: a 61-line function is reported, a 60-line one (and a long
    decorator list on it) is not."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(59))
    method = "\n".join("    " + line for line in body.splitlines())
    (pkg / "a.py").write_text(f"@dec\n@dec\ndef ok():\n{body}\n\n"
                              f"class C:\n    def long(self):\n{method}\n        return 1\n")
    found = long_functions(pkg, MAX_FUNCTION_LINES)
    assert [f.split(" ", 1)[1] for f in found] == ["long (61 lines)"]
