"""docs/configuration.md is rendered from _core/config.py and never drifts from it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "render_config_docs.py"
MODULE = ROOT / "src" / "otel_lambda_init" / "_core" / "config.py"
PAGE = ROOT / "docs" / "configuration.md"
# A variable a user sets (not `_OTEL_LAMBDA_INIT_...`, which the package keeps for itself).
USER_VARIABLE = re.compile(r"(?<![A-Za-z0-9_])OTEL_LAMBDA_INIT_[A-Z0-9_]*[A-Z0-9]")


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_config_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_page_is_what_the_config_module_renders() -> None:
    rendered = _renderer().render(MODULE.read_text())
    assert PAGE.read_text() == rendered, (
        "docs/configuration.md differs from src/otel_lambda_init/_core/config.py: "
        "run python scripts/render_config_docs.py"
    )


def test_every_variable_the_package_reads_has_a_section_on_the_page() -> None:
    page = PAGE.read_text()
    documented = set(re.findall(r"^## `(OTEL_LAMBDA_INIT_[A-Z0-9_]+)`$", page, re.M))
    mentioned = {
        name
        for path in (ROOT / "src").rglob("*")
        if path.is_file() and path.suffix in ("", ".py")
        for name in USER_VARIABLE.findall(path.read_text(errors="replace"))
    }
    assert mentioned, "no OTEL_LAMBDA_INIT_* variable found under src/"
    assert sorted(mentioned - documented) == []


def test_every_documented_variable_says_its_default() -> None:
    _, variables, _ = _renderer().read_module(MODULE.read_text())
    assert len(variables) >= 10
    assert [v.name for v in variables if "default" not in v.doc.lower()] == []
