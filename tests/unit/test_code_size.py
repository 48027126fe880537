"""Code a newcomer can read: no module of the instrumentation or the simulator over 400 lines,
no function over 60 (measured from the source's syntax tree, decorators and docstrings
included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
PACKAGES = ["otel_lambda_init", "otel_lambda_sim"]
"""The packages held to the limits."""
EXEMPT: set[str] = set()
"""Modules let off the limits, by path under src/ (none)."""


def sources() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            if path.relative_to(SRC).as_posix() not in EXEMPT:
                found.append(path)
    return found


def long_functions(path: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``name:line (n lines)`` for each function or method longer than ``limit`` lines."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > limit:
                found.append(f"{node.name}:{node.lineno} ({length} lines)")
    return found


@pytest.mark.parametrize("path", sources(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"


@pytest.mark.parametrize("path", sources(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_function_is_over_60_lines(path: Path) -> None:
    assert long_functions(path) == []


def test_the_function_measure_counts_decorators_and_bodies(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    source = tmp_path / "planted.py"
    source.write_text(f"@staticmethod\ndef planted():\n{body}\n\ndef short():\n    pass\n")
    assert long_functions(source) == ["planted:2 (62 lines)"]
