"""The simulator is its own package and never imports the instrumentation (design.md, Layout)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import otel_lambda_sim

SIM_ROOT = Path(otel_lambda_sim.__file__).parent
INSTRUMENTATION = "otel_lambda_init"


def _imported_modules(path: Path) -> list[str]:
    """Every module an `import` or `from ... import` names, at any depth (functions included)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_no_simulator_source_imports_the_instrumentation() -> None:
    sources = sorted(SIM_ROOT.rglob("*.py"))
    assert len(sources) > 10  # the walk found the package, runtime/ files included
    offenders = [
        f"{path.relative_to(SIM_ROOT)}: {name}"
        for path in sources
        for name in _imported_modules(path)
        if name == INSTRUMENTATION or name.startswith(f"{INSTRUMENTATION}.")
    ]
    assert offenders == []


def test_the_import_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from otel_lambda_init.config import x\n    import otel_lambda_init\n"
    )
    assert _imported_modules(module) == ["otel_lambda_init.config", "otel_lambda_init"]


def test_the_simulator_is_not_inside_the_instrumentation_package() -> None:
    import otel_lambda_init

    instrumentation_root = Path(otel_lambda_init.__file__).parent
    assert not (instrumentation_root / "simulator").exists()
    assert instrumentation_root not in SIM_ROOT.parents


def test_importing_the_simulator_imports_no_instrumentation_module() -> None:
    code = (
        "import sys\n"
        "import otel_lambda_sim, otel_lambda_sim.sandbox, otel_lambda_sim.fleet\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'otel_lambda_init']\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
