"""Static checks of the collector configs under collector/, and our side of the OTLP pipeline.

The configs are checked against key lists generated from the pinned collector sources
(tests/collector_schema/*.json, see their `_note`), and `otelcol validate` runs them with the
collector scripts/components.sh builds (OTELCOL_BIN; tests/components/test_otelcol_e2e.py has
more). Set OTELCOL_LAMBDA_BIN to a collector with the opentelemetry-lambda components to
validate the extension configs as shipped.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from components import component_bin, strip_lambda_only_components

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = ROOT / "collector"
SCHEMAS = Path(__file__).resolve().parents[1] / "collector_schema"

LAMBDA_SCHEMA = "lambda-layer-0.23.0.json"
CONTRIB_SCHEMA = "otelcol-contrib-0.157.0.json"

# Which distribution each collector config targets; overlays name the file they extend.
CONFIGS = {
    "lambda-extension.yaml": LAMBDA_SCHEMA,
    "lambda-extension-telemetryapi.yaml": LAMBDA_SCHEMA,
    "gateway.yaml": CONTRIB_SCHEMA,
}
OVERLAYS = {"gateway-datadog.overlay.yaml": "gateway.yaml"}
NOT_COLLECTOR_CONFIGS = {"docker-compose.yaml"}

SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")
TOP_LEVEL = {*SECTIONS, "service"}
SERVICE_KEYS = {"pipelines", "extensions", "telemetry"}
PIPELINE_KEYS = {"receivers", "processors", "exporters"}
SIGNALS = {"traces", "metrics", "logs", "profiles"}
# Connector type -> (signal it consumes as an exporter, signals it produces as a receiver).
CONNECTOR_SIGNALS = {"spanmetrics": ("traces", {"metrics"})}

# The env vars the configs read, with values that make them loadable for `otelcol validate`.
VALIDATE_ENV = {
    "GATEWAY_OTLP_ENDPOINT": "http://127.0.0.1:14318",
    "BACKEND_OTLP_ENDPOINT": "http://127.0.0.1:14318",
    "METRICS_OTLP_ENDPOINT": "http://127.0.0.1:14318",
    "DATADOG_OTLP_ENDPOINT": "http://127.0.0.1:14318",
    "GATEWAY_OTLP_HTTP_ENDPOINT": "127.0.0.1:4318",
    "GATEWAY_OTLP_GRPC_ENDPOINT": "127.0.0.1:4317",
}


# --------------------------------------------------------------------------- checker


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())


def merge(base: Any, overlay: Any) -> Any:
    """Merge the way the collector merges several --config files: maps deep, lists replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(overlay)


def component_type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _check_keys(value: Any, tree: Any, path: str, errors: list[str]) -> None:
    if tree is True or value is None:
        return
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in tree and key not in ("[]", "*"):
                _check_keys(sub, tree[key], f"{path}.{key}", errors)
            elif "*" in tree:
                _check_keys(sub, tree["*"], f"{path}.{key}", errors)
            else:
                errors.append(f"{path}: unknown key '{key}'")
    elif isinstance(value, list) and "[]" in tree:
        for i, item in enumerate(value):
            _check_keys(item, tree["[]"], f"{path}[{i}]", errors)


def check_config(config: dict[str, Any], schema: dict[str, Any], lambda_layer: bool) -> list[str]:
    """Return one message per problem; each names the key, component or pipeline at fault."""
    errors: list[str] = []
    dist = schema["distribution"]
    for key in config:
        if key not in TOP_LEVEL:
            errors.append(f"top level: unknown key '{key}'")
    defined: dict[str, dict[str, Any]] = {s: dict(config.get(s) or {}) for s in SECTIONS}

    for section, components in defined.items():
        for cid, body in components.items():
            ctype = component_type(cid)
            if ctype not in schema["components"][section]:
                errors.append(f"{section}.{cid}: component type '{ctype}' is not in {dist}")
                continue
            keys = schema["keys"].get(f"{section}/{ctype}")
            if keys is None:
                errors.append(f"{section}.{cid}: no key list for '{ctype}' in {dist}")
                continue
            _check_keys(body, keys["keys"], f"{section}.{cid}", errors)

    service = config.get("service") or {}
    for key in service:
        if key not in SERVICE_KEYS:
            errors.append(f"service: unknown key '{key}'")
    for ext in service.get("extensions") or []:
        if ext not in defined["extensions"]:
            errors.append(f"service.extensions: '{ext}' is not defined under extensions")

    pipelines = service.get("pipelines") or {}
    if not pipelines:
        errors.append("service.pipelines: no pipeline defined")
    used: set[tuple[str, str]] = set()
    as_exporter: dict[str, set[str]] = {}
    as_receiver: dict[str, set[str]] = {}
    for pid, pipe in pipelines.items():
        where = f"service.pipelines.{pid}"
        signal = component_type(pid)
        if signal not in SIGNALS:
            errors.append(f"{where}: unknown pipeline type '{signal}'")
        pipe = pipe or {}
        for key in pipe:
            if key not in PIPELINE_KEYS:
                errors.append(f"{where}: unknown key '{key}'")
        for role in ("receivers", "exporters"):
            if not pipe.get(role):
                errors.append(f"{where}.{role}: a pipeline needs at least one")
        for role, sections in (
            ("receivers", ("receivers", "connectors")),
            ("processors", ("processors",)),
            ("exporters", ("exporters", "connectors")),
        ):
            for cid in pipe.get(role) or []:
                found = [s for s in sections if cid in defined[s]]
                if not found:
                    names = " or ".join(sections)
                    errors.append(f"{where}.{role}: '{cid}' is not defined under {names}")
                    continue
                used.add((found[0], cid))
                if found[0] == "connectors":
                    (as_receiver if role == "receivers" else as_exporter).setdefault(
                        cid, set()
                    ).add(signal)
        processors = list(pipe.get("processors") or [])
        if lambda_layer and processors:
            if "decouple" not in processors:
                errors.append(f"{where}.processors: 'decouple' missing (it must be last)")
            elif processors[-1] != "decouple":
                after = processors[processors.index("decouple") + 1 :]
                errors.append(
                    f"{where}.processors: 'decouple' must be last, found after it: {after}"
                )

    for section, components in defined.items():
        for cid in components:
            if (section, cid) not in used:
                errors.append(f"{section}.{cid}: defined but used in no pipeline")
    for cid in defined["connectors"]:
        if cid not in as_exporter:
            errors.append(f"connectors.{cid}: not used as an exporter in any pipeline")
        if cid not in as_receiver:
            errors.append(f"connectors.{cid}: not used as a receiver in any pipeline")
        wiring = CONNECTOR_SIGNALS.get(component_type(cid))
        if wiring and cid in as_exporter and cid in as_receiver:
            consumes, produces = wiring
            if as_exporter[cid] != {consumes}:
                errors.append(f"connectors.{cid}: must export from {consumes} pipelines only")
            if not as_receiver[cid] <= produces:
                errors.append(f"connectors.{cid}: can only receive into {sorted(produces)}")
    if lambda_layer:
        for cid in defined["processors"]:
            if component_type(cid) == "coldstart":
                errors.append(
                    f"processors.{cid}: never enable 'coldstart' with otel-lambda-init "
                    "(it re-parents every span with faas.coldstart=true)"
                )
    return errors


def load_config(name: str) -> dict[str, Any]:
    config = yaml.safe_load((COLLECTOR / name).read_text())
    for overlay, base in OVERLAYS.items():
        if name == overlay:
            return merge(load_config(base), config)
    return config


def schema_for(name: str) -> str:
    return CONFIGS[OVERLAYS.get(name, name)]


def check_file(name: str) -> list[str]:
    schema_name = schema_for(name)
    return check_config(load_config(name), load_schema(schema_name), schema_name == LAMBDA_SCHEMA)


ALL_CONFIGS = sorted([*CONFIGS, *OVERLAYS])


# --------------------------------------------------------------------------- shipped files


def test_every_yaml_under_collector_is_known_to_the_checker():
    found = {p.name for p in COLLECTOR.glob("*.y*ml")}
    assert found == {*CONFIGS, *OVERLAYS, *NOT_COLLECTOR_CONFIGS}


@pytest.mark.parametrize("name", ALL_CONFIGS)
def test_shipped_config_passes_the_static_check(name):
    assert check_file(name) == []


@pytest.mark.parametrize("name", sorted(n for n, s in CONFIGS.items() if s == LAMBDA_SCHEMA))
def test_extension_config_receives_on_loopback_only(name):
    protocols = load_config(name)["receivers"]["otlp"]["protocols"]
    for proto in protocols.values():
        host = proto["endpoint"].rsplit(":", 1)[0]
        assert host in ("localhost", "127.0.0.1"), proto


@pytest.mark.parametrize("name", sorted(n for n, s in CONFIGS.items() if s == LAMBDA_SCHEMA))
def test_extension_config_exports_otlphttp_to_an_env_var_and_never_uses_coldstart(name):
    config = load_config(name)
    assert re.fullmatch(r"\$\{env:[A-Z_]+\}", config["exporters"]["otlphttp"]["endpoint"])
    assert not any(component_type(p) == "coldstart" for p in config.get("processors", {}))
    for pipe in config["service"]["pipelines"].values():
        assert pipe["processors"][-1] == "decouple"
        assert "batch" in pipe["processors"]


def test_telemetryapi_variant_drops_only_the_receivers_init_span():
    schema = load_schema(LAMBDA_SCHEMA)
    scope = schema["telemetryapi_scope_name"]
    config = load_config("lambda-extension-telemetryapi.yaml")
    filters = {k: v for k, v in config["processors"].items() if component_type(k) == "filter"}
    assert len(filters) == 1
    ((fid, body),) = filters.items()
    conditions = body["traces"]["span"]
    assert conditions == [f'instrumentation_scope.name == "{scope}" and IsMatch(name, "^init ")']
    assert "otel_lambda_init" not in conditions[0]
    traces = config["service"]["pipelines"]["traces"]
    assert "telemetryapi" in traces["receivers"]
    assert traces["processors"].index(fid) < traces["processors"].index("batch")


def test_gateway_spanmetrics_dimensions_and_sampling_policies():
    config = load_config("gateway.yaml")
    dims = [d["name"] for d in config["connectors"]["spanmetrics"]["dimensions"]]
    assert set(dims) >= {
        "faas.coldstart",
        "lambda_init.proactive_initialization",
        "lambda_init.initialization_type",
        "faas.name",
    }
    pipes = config["service"]["pipelines"]
    # Span metrics must see every span, so their pipeline has no sampler.
    feeding = [p for p in pipes.values() if "spanmetrics" in p.get("exporters", [])]
    assert feeding and all("tail_sampling" not in p.get("processors", []) for p in feeding)
    policies = {p["name"]: p for p in config["processors"]["tail_sampling"]["policies"]}
    keep = policies["keep-init-traces"]["ottl_condition"]["span"][0]
    assert 'instrumentation_scope.name == "otel_lambda_init"' in keep
    warm = policies["sample-warm-traces"]["probabilistic"]["sampling_percentage"]
    assert warm.startswith("${env:WARM_TRACE_SAMPLING_PERCENTAGE")
    exporters = {component_type(e) for p in pipes.values() for e in p["exporters"]}
    assert {"otlphttp", "debug"} <= exporters


def test_datadog_overlay_copies_our_attributes_to_datadog_facets():
    config = load_config("gateway-datadog.overlay.yaml")
    statements = config["processors"]["transform/datadog-facets"]["trace_statements"][0]
    joined = "\n".join(statements["statements"])
    assert 'set(attributes["proactive_initialization"], attributes["lambda_init.' in joined
    assert 'set(attributes["cold_start"], attributes["faas.coldstart"])' in joined
    # The overlay adds its own pipeline and leaves the gateway's pipelines as they were.
    base = load_config("gateway.yaml")["service"]["pipelines"]
    pipes = config["service"]["pipelines"]
    assert {k: pipes[k] for k in base} == base
    assert "transform/datadog-facets" in pipes["traces/datadog"]["processors"]


# --------------------------------------------------------------------------- broken copies


def _broken(name: str, mutate) -> list[str]:
    schema_name = schema_for(name)
    config = copy.deepcopy(load_config(name))
    mutate(config)
    return check_config(config, load_schema(schema_name), schema_name == LAMBDA_SCHEMA)


def test_misspelled_key_is_reported_with_its_path():
    def mutate(c):
        c["receivers"]["otlp"]["protocols"]["http"]["endpiont"] = c["receivers"]["otlp"][
            "protocols"
        ]["http"].pop("endpoint")

    errors = _broken("lambda-extension.yaml", mutate)
    assert errors == ["receivers.otlp.protocols.http: unknown key 'endpiont'"]


def test_misspelled_nested_list_key_is_reported():
    def mutate(c):
        c["connectors"]["spanmetrics"]["dimensions"][1]["nmae"] = "x"

    errors = _broken("gateway.yaml", mutate)
    assert errors == ["connectors.spanmetrics.dimensions[1]: unknown key 'nmae'"]


def test_missing_component_is_reported_by_name():
    def mutate(c):
        del c["exporters"]["debug"]

    errors = _broken("gateway.yaml", mutate)
    assert (
        "service.pipelines.traces.exporters: 'debug' is not defined under exporters or connectors"
        in errors
    )
    assert all("'debug'" in e for e in errors)


def test_component_missing_from_the_distribution_is_reported():
    def mutate(c):
        c["connectors"] = {"spanmetrics": {}}
        c["service"]["pipelines"]["traces"]["exporters"].append("spanmetrics")
        c["service"]["pipelines"]["metrics/spans"] = {
            "receivers": ["spanmetrics"],
            "exporters": ["otlphttp"],
        }

    errors = _broken("lambda-extension.yaml", mutate)
    assert any(
        e.startswith("connectors.spanmetrics: component type 'spanmetrics' is not in")
        for e in errors
    )


def test_decouple_not_last_is_reported():
    def mutate(c):
        c["service"]["pipelines"]["traces"]["processors"] = ["decouple", "batch"]

    errors = _broken("lambda-extension.yaml", mutate)
    assert errors == [
        "service.pipelines.traces.processors: 'decouple' must be last, found after it: ['batch']"
    ]


def test_coldstart_processor_is_rejected_for_the_extension():
    def mutate(c):
        c["processors"]["coldstart"] = None
        c["service"]["pipelines"]["traces"]["processors"].insert(0, "coldstart")

    errors = _broken("lambda-extension.yaml", mutate)
    assert any(e.startswith("processors.coldstart: never enable 'coldstart'") for e in errors)


def test_connector_wired_only_one_way_is_reported():
    def mutate(c):
        c["service"]["pipelines"]["metrics"]["receivers"].remove("spanmetrics")

    errors = _broken("gateway.yaml", mutate)
    assert errors == ["connectors.spanmetrics: not used as a receiver in any pipeline"]


def test_several_faults_in_one_copy_are_all_named():
    def mutate(c):
        c["processors"]["batch"]["timout"] = "1s"
        del c["exporters"]["otlphttp"]
        c["service"]["pipelines"]["metrics"]["processors"] = ["decouple", "batch"]

    errors = _broken("lambda-extension.yaml", mutate)
    text = "\n".join(errors)
    assert "processors.batch: unknown key 'timout'" in text
    assert "'otlphttp' is not defined under exporters" in text
    assert "service.pipelines.metrics.processors: 'decouple' must be last" in text


def test_overlay_merge_replaces_lists_and_merges_maps():
    merged = merge({"a": {"x": 1, "l": [1, 2]}, "b": 1}, {"a": {"y": 2, "l": [3]}})
    assert merged == {"a": {"x": 1, "y": 2, "l": [3]}, "b": 1}


# --------------------------------------------------------------------------- README


README = COLLECTOR / "README.md"
# Upstream source files the README cites as the origin of the key lists.
UPSTREAM_FILES = {"config.schema.yaml"}


def _readme_component_ids(text: str) -> tuple[set[str], set[str]]:
    """Ids in the pipeline diagram (written `[id]`) and in the first column of the tables."""
    diagram = text.split("<!-- pipeline-diagram -->", 1)[1].split("<!-- /pipeline-diagram -->")[0]
    in_diagram = set(re.findall(r"\[([a-z_]+(?:/[a-z0-9_-]+)?)\]", diagram))
    in_tables = set(re.findall(r"^\| `([a-z_]+(?:/[a-z0-9_-]+)?)` \|", text, re.M))
    return in_diagram, in_tables


def _defined_ids() -> set[str]:
    defined: set[str] = set()
    for name in [*CONFIGS, *OVERLAYS]:
        config = load_config(name)
        for section in SECTIONS:
            defined |= set(config.get(section) or {})
        defined |= set(config["service"]["pipelines"])
    return defined


def test_readme_quotes_only_files_and_components_that_exist():
    text = README.read_text()
    files = set(re.findall(r"`([\w.-]+\.ya?ml)`", text))
    assert files >= {*CONFIGS, *OVERLAYS, *NOT_COLLECTOR_CONFIGS}
    for name in files - UPSTREAM_FILES:
        assert (COLLECTOR / name).exists(), name
    in_diagram, in_tables = _readme_component_ids(text)
    defined = _defined_ids()
    assert in_diagram, "the README's diagram quotes no component"
    assert in_diagram <= defined, in_diagram - defined
    assert in_tables <= defined, in_tables - defined


def test_readme_explains_every_component_of_the_shipped_configs():
    in_diagram, in_tables = _readme_component_ids(README.read_text())
    assert _defined_ids() - {"traces", "metrics"} <= in_diagram | in_tables


def test_readme_pins_the_versions_the_key_lists_come_from():
    text = README.read_text()
    for pin in ("layer-collector/0.23.0", "-0_23_0:", "v0.157.0", "otelcol-contrib 0.157.0"):
        assert pin in text
    for name in (LAMBDA_SCHEMA, CONTRIB_SCHEMA):
        assert f"tests/collector_schema/{name}" in text
    assert "layer-collector/0.23.0" in load_schema(LAMBDA_SCHEMA)["_note"]
    assert load_schema(CONTRIB_SCHEMA)["distribution"] == "otelcol-contrib 0.157.0"


def test_compose_file_runs_the_pinned_gateway_config():
    compose = yaml.safe_load((COLLECTOR / "docker-compose.yaml").read_text())
    gateway = compose["services"]["otel-gateway"]
    assert gateway["image"].endswith(":0.157.0")
    assert any("gateway.yaml" in v for v in gateway["volumes"])
    env = gateway["environment"]
    for var in ("BACKEND_OTLP_ENDPOINT", "METRICS_OTLP_ENDPOINT"):
        assert var in env
    for port in gateway["ports"]:
        assert port.startswith("127.0.0.1:"), port


# --------------------------------------------------------------------------- otelcol validate


def _validate(binary: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **VALIDATE_ENV}
    return subprocess.run(
        [binary, "validate", *args], capture_output=True, text=True, timeout=60, env=env
    )


@pytest.mark.otelcol
@pytest.mark.parametrize("name", sorted(n for n in ALL_CONFIGS if schema_for(n) == CONTRIB_SCHEMA))
def test_otelcol_validate_accepts_gateway_config(name):
    binary = component_bin("OTELCOL_BIN")  # built by scripts/components.sh when unset
    files = [OVERLAYS[name], name] if name in OVERLAYS else [name]
    args = [a for f in files for a in ("--config", str(COLLECTOR / f))]
    result = _validate(binary, args)
    assert result.returncode == 0, result.stderr


@pytest.mark.otelcol
@pytest.mark.parametrize("name", sorted(n for n, s in CONFIGS.items() if s == LAMBDA_SCHEMA))
def test_otelcol_validate_accepts_extension_config(name, tmp_path):
    binary = os.environ.get("OTELCOL_LAMBDA_BIN")
    if binary:  # a collector with the opentelemetry-lambda components: the file as shipped
        result = _validate(binary, ["--config", str(COLLECTOR / name)])
        assert result.returncode == 0, result.stderr
        return
    # Stand-in: the Go module proxy does not serve decouple/telemetryapi (collector/README.md),
    # so our build validates everything else; their keys are checked statically above.
    stripped, removed = strip_lambda_only_components(load_config(name))
    assert removed and all(component_type(c) in {"decouple", "telemetryapi"} for c in removed)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(stripped))
    result = _validate(component_bin("OTELCOL_BIN"), ["--config", str(path)])
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- our side, executed

AUTHORIZATION = "Bearer e2e-token"


def _extension_receiver_endpoint(name: str = "lambda-extension.yaml") -> tuple[str, str]:
    """Host and traces path the extension's OTLP/HTTP receiver listens on, from the config."""
    http = load_config(name)["receivers"]["otlp"]["protocols"]["http"]
    host = http["endpoint"].rsplit(":", 1)[0]
    return host, http.get("traces_url_path", "/v1/traces")


def _exporter_env(port: int) -> dict[str, str]:
    """What a function sets to export to the extension: its endpoint, our port, the header."""
    host, _ = _extension_receiver_endpoint()
    header_name = next(
        iter(load_config("lambda-extension.yaml")["exporters"]["otlphttp"]["headers"])
    )
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{host}:{port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_HEADERS": f"{header_name}={AUTHORIZATION.replace(' ', '%20')}",
    }


def test_our_tracer_scope_is_the_one_the_configs_match_on():
    from otel_lambda_init._core.vocabulary import TRACER_NAME

    gateway = load_config("gateway.yaml")
    keep = gateway["processors"]["tail_sampling"]["policies"][0]["ottl_condition"]["span"][0]
    assert f'instrumentation_scope.name == "{TRACER_NAME}"' in keep
    assert load_schema(LAMBDA_SCHEMA)["telemetryapi_scope_name"] != TRACER_NAME


def test_sdk_exporter_configured_like_the_extension_delivers_our_spans(monkeypatch):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Link, SpanKind

    from otel_lambda_sim.receiver import OtlpReceiver

    with OtlpReceiver() as receiver:
        for key, value in _exporter_env(receiver.port).items():
            monkeypatch.setenv(key, value)
        exporter = OTLPSpanExporter(timeout=5)  # everything else from the env, as in Lambda
        resource = Resource.create({"service.name": "orders", "faas.name": "my-fn"})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("otel_lambda_init")
        t0 = 1_700_000_000_000_000_000
        init = tracer.start_span(
            "init my-fn",
            kind=SpanKind.INTERNAL,
            start_time=t0,
            attributes={
                "faas.coldstart": False,
                "lambda_init.proactive_initialization": True,
                "lambda_init.initialization_type": "on-demand",
                "lambda_init.duration_ms": 812.5,
                "lambda_init.gap_ms": 360_000.0,
            },
        )
        init.end(end_time=t0 + 812_500_000)
        invocation = tracer.start_span(
            "my-fn",
            kind=SpanKind.SERVER,
            start_time=t0 + 361_000_000_000,
            links=[Link(init.get_span_context())],
            attributes={"faas.coldstart": False, "faas.invocation_id": "req-1"},
        )
        invocation.end(end_time=t0 + 361_050_000_000)
        provider.shutdown()
        spans = receiver.wait_for(lambda s: len(s) >= 2, timeout=10)
        requests = receiver.requests

    _, traces_path = _extension_receiver_endpoint()
    assert {r.path for r in requests} == {traces_path}
    for r in requests:
        assert r.headers["content-type"] == "application/x-protobuf"
        assert r.headers["authorization"] == AUTHORIZATION
    got_init = next(s for s in spans if s.name == "init my-fn")
    got_invocation = next(s for s in spans if s.name == "my-fn")
    assert got_init.scope_name == "otel_lambda_init"
    assert got_init.resource["faas.name"] == "my-fn"
    assert got_init.attributes["lambda_init.proactive_initialization"] is True
    assert got_init.attributes["lambda_init.duration_ms"] == 812.5
    assert got_init.start_ns == t0 and got_init.end_ns == t0 + 812_500_000
    assert got_init.trace_id == format(init.get_span_context().trace_id, "032x")
    assert got_invocation.kind == "SERVER"
    assert [(link.trace_id, link.span_id) for link in got_invocation.links] == [
        (got_init.trace_id, got_init.span_id)
    ]


@pytest.mark.timeout(120)
def test_simulated_cold_start_reaches_a_receiver_set_up_like_the_extension():
    """A real handler in a simulated sandbox, exporting with the extension's settings."""
    from lambda_harness import HANDLERS

    from otel_lambda_sim.receiver import OtlpReceiver
    from otel_lambda_sim.sandbox import Sandbox

    with OtlpReceiver() as receiver:
        env = {
            **_exporter_env(receiver.port),
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
        }
        with Sandbox("manual_app.handler", HANDLERS, env=env) as sandbox:
            sandbox.start()
            assert sandbox.wait_init(30).status == "done"
            assert sandbox.invoke({"n": 1}, timeout=30).status == "success"
            spans = receiver.wait_for(
                lambda s: (
                    any(x.name.startswith("init ") for x in s)
                    and any("faas.invocation_id" in x.attributes for x in s)
                ),
                timeout=20,
            )
        requests = receiver.requests

    assert requests and all(r.headers.get("authorization") == AUTHORIZATION for r in requests)
    (init,) = [s for s in spans if s.name.startswith("init ")]
    # What the gateway's connector and sampler read: scope, span attributes, resource faas.name.
    assert init.scope_name == "otel_lambda_init"
    # spanmetrics looks a dimension up on the span first, then on the resource.
    faas_name = init.attributes.get("faas.name", init.resource.get("faas.name"))
    assert init.name == f"init {faas_name}"
    for key in (
        "faas.coldstart",
        "lambda_init.proactive_initialization",
        "lambda_init.initialization_type",
        "lambda_init.duration_ms",
    ):
        assert key in init.attributes, key
