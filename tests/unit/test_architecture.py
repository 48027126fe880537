"""The shape of the instrumentation package, checked from its source: no import cycle (imports
inside functions included), one owner of mutable state, no test hook in production code, and
one vocabulary that agrees with the OpenTelemetry semantic conventions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from otel_lambda_init._core import vocabulary as v

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "otel_lambda_init"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if "_early" in parts:  # a sitecustomize run as a top-level module, not ours to graph
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """Every package module ``name`` imports, at any depth of its code (functions too)."""
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                root = ".".join(base[: len(base) - node.level + 1])
                prefix = f"{root}.{node.module}" if node.module else root
            else:
                prefix = node.module or ""
            candidates = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    graph = {name: imported_modules(name, path, known) for name, path in found.items()}
    # A module importing its own package's __init__ is Python's normal start-up, not an edge
    # of ours: every submodule import runs the parent package first.
    for name, targets in graph.items():
        targets -= {p for p in known if name.startswith(p + ".")}
    return graph


def test_the_graph_sees_function_level_imports() -> None:
    graph = import_graph()
    # The owner imports delivery only inside a method (INIT cost): the graph must see it.
    assert "otel_lambda_init._delivery.policy" in graph["otel_lambda_init._owner"]
    assert "otel_lambda_init._sdk.emitter" in graph["otel_lambda_init._owner"]


def test_no_import_cycle_among_the_instrumentations_modules() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def global_statements() -> list[str]:
    found = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Global):
                found.append(f"{name}:{node.lineno}")
    return found


def test_at_most_three_global_statements() -> None:
    assert len(global_statements()) <= 3, global_statements()


def test_no_production_code_calls_a_reset_for_tests_hook() -> None:
    calls = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if "for_tests" in called:
                    calls.append(f"{name}:{node.lineno} {called}")
    assert calls == []


@pytest.mark.parametrize(
    ("ours", "module", "constant"),
    [
        (v.FAAS_COLDSTART, "faas_attributes", "FAAS_COLDSTART"),
        (v.FAAS_INVOCATION_ID, "faas_attributes", "FAAS_INVOCATION_ID"),
        (v.FAAS_TRIGGER, "faas_attributes", "FAAS_TRIGGER"),
        (v.FAAS_NAME, "faas_attributes", "FAAS_NAME"),
        (v.FAAS_VERSION, "faas_attributes", "FAAS_VERSION"),
        (v.FAAS_INSTANCE, "faas_attributes", "FAAS_INSTANCE"),
        (v.FAAS_MAX_MEMORY, "faas_attributes", "FAAS_MAX_MEMORY"),
        (v.CLOUD_PROVIDER, "cloud_attributes", "CLOUD_PROVIDER"),
        (v.CLOUD_PLATFORM, "cloud_attributes", "CLOUD_PLATFORM"),
        (v.CLOUD_REGION, "cloud_attributes", "CLOUD_REGION"),
        (v.CLOUD_RESOURCE_ID, "cloud_attributes", "CLOUD_RESOURCE_ID"),
        (v.CLOUD_ACCOUNT_ID, "cloud_attributes", "CLOUD_ACCOUNT_ID"),
        (v.AWS_LAMBDA_INVOKED_ARN, "aws_attributes", "AWS_LAMBDA_INVOKED_ARN"),
        (v.EXCEPTION_TYPE, "exception_attributes", "EXCEPTION_TYPE"),
        (v.ERROR_TYPE, "error_attributes", "ERROR_TYPE"),
    ],
)
def test_semconv_keys_match_the_semantic_conventions_package(
    ours: str, module: str, constant: str
) -> None:
    import importlib

    for package in (
        "opentelemetry.semconv.attributes",
        "opentelemetry.semconv._incubating.attributes",
    ):
        try:
            semconv = importlib.import_module(f"{package}.{module}")
        except ImportError:
            continue
        if hasattr(semconv, constant):
            assert getattr(semconv, constant) == ours
            return
    pytest.fail(f"{constant} not found in opentelemetry-semantic-conventions")


def test_the_version_has_one_home() -> None:
    from importlib.metadata import version

    import otel_lambda_init

    assert otel_lambda_init.__version__ == v.VERSION == version("otel-lambda-init")


def test_importing_the_decorator_loads_neither_the_sdk_nor_the_propagators() -> None:
    """INIT cost: the decorator needs the OpenTelemetry API only; the SDK is the user's to
    configure, and the propagators (entry points, tens of ms) load at the first invocation."""
    import subprocess
    import sys

    code = (
        "import sys; from otel_lambda_init import instrument_handler, init_phase; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk') "
        "or m == 'opentelemetry.propagate'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
