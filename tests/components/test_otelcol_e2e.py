"""The configs in collector/ run by a real Collector: built with the Collector Builder from
collector/ocb/otelcol-builder.yaml (scripts/components.sh, OTELCOL_BIN).

The opentelemetry-lambda components (`decouple`, `telemetryapi`) are not served by the Go module
proxy (see collector/README.md), so the extension configs are validated and run with exactly
those removed; everything else in them runs as shipped.
"""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from components import (
    COLLECTOR,
    LAMBDA_ONLY_COMPONENTS,
    component_bin,
    otelcol_validate,
    strip_lambda_only_components,
)

pytestmark = [pytest.mark.otelcol, pytest.mark.timeout(180)]

EXTENSION_CONFIGS = ["lambda-extension.yaml", "lambda-extension-telemetryapi.yaml"]
GATEWAY_CONFIGS = ["gateway.yaml"]
OVERLAYS = {"gateway-datadog.overlay.yaml": "gateway.yaml"}
# Values for the variables the configs read, so they load.
ENV = {
    "GATEWAY_OTLP_ENDPOINT": "http://127.0.0.1:14318",
    "BACKEND_OTLP_ENDPOINT": "http://127.0.0.1:14318",
    "METRICS_OTLP_ENDPOINT": "http://127.0.0.1:14318",
    "DATADOG_OTLP_ENDPOINT": "http://127.0.0.1:14318",
}
SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")


def load(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((COLLECTOR / name).read_text()))


def runnable(name: str, tmp_path: Path) -> list[Path]:
    """The --config files that make up a shipped config, as our build can load them."""
    if name in OVERLAYS:
        return [COLLECTOR / OVERLAYS[name], COLLECTOR / name]
    if name in EXTENSION_CONFIGS:
        stripped, removed = strip_lambda_only_components(load(name))
        assert {component.split("/", 1)[0] for component in removed} <= {
            t for types in LAMBDA_ONLY_COMPONENTS.values() for t in types
        }
        path = tmp_path / f"stripped-{name}"
        path.write_text(yaml.safe_dump(stripped, sort_keys=False))
        return [path]
    return [COLLECTOR / name]


def used_component_types(config: dict[str, Any]) -> dict[str, set[str]]:
    return {
        section: {component_id.split("/", 1)[0] for component_id in config.get(section) or {}}
        for section in SECTIONS
    }


ALL = sorted([*EXTENSION_CONFIGS, *GATEWAY_CONFIGS, *OVERLAYS])


def test_every_collector_config_is_covered_here() -> None:
    shipped = {p.name for p in COLLECTOR.glob("*.y*ml")} - {"docker-compose.yaml"}
    assert shipped == set(ALL)


def test_the_build_holds_exactly_the_components_the_configs_use() -> None:
    result = subprocess.run(
        [component_bin("OTELCOL_BIN"), "components"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    built = yaml.safe_load(result.stdout)
    used: dict[str, set[str]] = {section: set() for section in SECTIONS}
    for name in ALL:
        for section, types in used_component_types(load(name)).items():
            used[section] |= types
    for section, types in LAMBDA_ONLY_COMPONENTS.items():
        used[section] -= types
    # v0.157.0 registers otlphttp and spanmetrics as otlp_http and span_metrics (the old names
    # remain accepted aliases, as `validate` shows below).
    aliases = {"otlp_http": "otlphttp", "span_metrics": "spanmetrics"}
    for section in SECTIONS:
        names = {aliases.get(c["name"], c["name"]) for c in built.get(section) or []}
        assert names == used[section], section


@pytest.mark.parametrize("name", ALL)
def test_built_collector_validates_shipped_config(name: str, tmp_path: Path) -> None:
    result = otelcol_validate(runnable(name, tmp_path), ENV)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", EXTENSION_CONFIGS)
def test_unstripped_extension_config_fails_only_on_the_lambda_components(name: str) -> None:
    """What stands in is exactly what is missing: the shipped file names decouple first."""
    result = otelcol_validate([COLLECTOR / name], ENV)
    assert result.returncode != 0
    assert re.search(r"unknown type: \"(decouple|telemetryapi)\"", result.stderr), result.stderr


def misspell_one_key(config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A copy with the first key of the first configured processor (or exporter) misspelt."""
    broken = copy.deepcopy(config)
    for section in ("processors", "exporters", "connectors"):
        for component in (broken.get(section) or {}).values():
            if isinstance(component, dict) and component:
                key = next(iter(component))
                component[f"{key}_typo"] = component.pop(key)
                return broken, f"{key}_typo"
    raise AssertionError("nothing to misspell")


@pytest.mark.parametrize("name", ALL)
def test_broken_copy_fails_naming_the_key(name: str, tmp_path: Path) -> None:
    files = runnable(name, tmp_path)
    target = files[-1]
    broken, key = misspell_one_key(dict(yaml.safe_load(target.read_text())))
    broken_path = tmp_path / f"broken-{name}"
    broken_path.write_text(yaml.safe_dump(broken, sort_keys=False))
    result = otelcol_validate([*files[:-1], broken_path], ENV)
    assert result.returncode != 0
    assert f"invalid keys: {key}" in result.stderr, result.stderr
