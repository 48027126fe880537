"""The SDK-free shutdown export of an unused INIT (``_delivery/unused_init.py``) sends what the
SDK path sends: the same spans, attributes, parentage, status and Resource, field by field as
the OTLP receiver decodes them; and it steps aside for every setting only the SDK knows."""

from __future__ import annotations

import os
import sys
from typing import Any
from unittest import mock

import pytest
from google.protobuf.json_format import MessageToDict
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.version import __version__ as sdk_version

from otel_lambda_init._core import init_span
from otel_lambda_init._core import vocabulary as v
from otel_lambda_init._core.environment import SandboxEnvironment
from otel_lambda_init._core.records import ChildRecord
from otel_lambda_init._delivery import unused_init
from otel_lambda_init._delivery.loopback import loopback_collector
from otel_lambda_init._delivery.otlp_wire import WireScope, export_request
from otel_lambda_init._owner import SandboxInstrumentation
from otel_lambda_init._sdk.provider import sandbox_resource
from otel_lambda_init._sdk.sampler import InitSpanSampler
from otel_lambda_init._sdk.verdict import first_invocation_verdict

MS = 1_000_000
T0 = 1_790_000_000 * 1_000_000_000
END = T0 + 900 * MS
NOW = END + 5_000 * MS
LAMBDA = {
    "AWS_LAMBDA_FUNCTION_NAME": "orders",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_REGION": "eu-west-1",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/06/[$LATEST]0123abcd",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
}


def sandbox() -> SandboxInstrumentation:
    """An INIT with the runtime's boot, nested imports, a failed phase and our overhead."""
    owner = SandboxInstrumentation(environ=dict(LAMBDA), now_ns=T0)
    init = owner.timeline.init
    init.start_ns = T0
    init.first_line_ns, init.cpu_ns = T0 + 80 * MS, 310 * MS
    init.history[v.WORKER_PID] = 42
    records = owner.records
    outer = records.open("import app", v.CHILD_IMPORT, T0 + 100 * MS, {"code.namespace": "app"})
    inner = records.open("import boto3", v.CHILD_IMPORT, T0 + 120 * MS)
    records.close(inner, T0 + 400 * MS)
    records.close(outer, T0 + 700 * MS)
    phase = ChildRecord("load model", v.CHILD_PHASE, T0 + 710 * MS, end_ns=T0 + 850 * MS)
    phase.error = "ValueError"
    records.add(phase)
    records.add_overhead(7 * MS)
    owner.timeline.mark_init_end(END, v.END_RUNTIME_NEXT)
    return owner


def decoded(body: bytes) -> dict[str, Any]:
    """Resource, scope and spans as the receiver reads them, ids replaced by span names."""
    request = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = request.resource_spans
    (scope_spans,) = resource_spans.scope_spans
    names = {s.span_id: s.name for s in scope_spans.spans}
    spans = {}
    for span in scope_spans.spans:
        fields = MessageToDict(span)
        for key in ("traceId", "spanId", "parentSpanId", "flags"):
            fields.pop(key, None)
        fields["parent"] = names.get(span.parent_span_id)
        fields["attributes"] = sorted(fields.get("attributes", []), key=lambda a: a["key"])
        assert len({s.trace_id for s in scope_spans.spans}) == 1
        spans[span.name] = fields
    resource = MessageToDict(resource_spans.resource)["attributes"]
    for attribute in resource:  # random per process: present in both, equal in neither
        if attribute["key"] == "service.instance.id":
            attribute["value"] = {"stringValue": "a uuid4"} if attribute["value"] else {}
    return {
        "resource": sorted(resource, key=lambda a: a["key"]),
        "scope": MessageToDict(scope_spans.scope),
        "spans": spans,
    }


def sent_by_the_sdk(owner: SandboxInstrumentation) -> dict[str, Any]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=sandbox_resource(owner.env), sampler=InitSpanSampler())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    owner.use_provider(provider)
    assert owner.spans.emitter.emit_unused(NOW)
    return decoded(encode_spans(memory.get_finished_spans()).SerializeToString())


def sent_without_the_sdk(owner: SandboxInstrumentation) -> dict[str, Any]:
    init, records = owner.timeline.init, owner.records
    verdict = first_invocation_verdict(
        owner.config, owner.env, init, NOW, owner.external_extensions,
        init_span.span_start_ns(init, records),
    )  # fmt: skip
    spans = unused_init.compose(
        owner.env, init, records, owner.config, init_span.unused_attributes(verdict), NOW
    )
    resource = unused_init.resource_attributes(owner.env, os.environ, sdk_version, sys.executable)
    return decoded(export_request([WireScope(resource, v.TRACER_NAME, v.VERSION, spans)]))


def test_the_spans_are_the_sdks_field_by_field(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)
    ours, theirs = sent_without_the_sdk(sandbox()), sent_by_the_sdk(sandbox())
    assert set(ours["spans"]) == {
        "init orders", "runtime", "import app", "import boto3", "load model"
    } or set(ours["spans"]) == set(theirs["spans"])  # fmt: skip
    assert ours == theirs
    root = ours["spans"]["init orders"]
    assert {"key": v.UNUSED, "value": {"boolValue": True}} in root["attributes"]
    assert ours["spans"]["import boto3"]["parent"] == "import app"
    assert ours["spans"]["load model"]["status"]["code"] == "STATUS_CODE_ERROR"


_TEXT = st.text(alphabet="ab =,%2Fservice.name", max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    service=st.one_of(st.none(), _TEXT),
    attributes=st.one_of(
        st.none(),
        _TEXT,
        st.lists(st.tuples(_TEXT, _TEXT), max_size=4).map(
            lambda kv: ",".join(f"{k}={val}" for k, val in kv)
        ),
    ),
    function=st.sampled_from(["orders", ""]),
)
def test_the_resource_is_the_sdks_whatever_the_user_set(
    service: str | None, attributes: str | None, function: str
) -> None:
    environ = {
        k: val
        for k, val in {"OTEL_SERVICE_NAME": service, "OTEL_RESOURCE_ATTRIBUTES": attributes}.items()
        if val is not None
    }
    env = SandboxEnvironment(function_name=function, memory_mb=128, region="eu-west-1")
    cleared = {k: val for k, val in os.environ.items() if not k.startswith("OTEL_")}
    with mock.patch.dict(os.environ, {**cleared, **environ}, clear=True):
        expected = dict(sandbox_resource(env).attributes)
    ours = unused_init.resource_attributes(env, environ, sdk_version, sys.executable)
    for resource in (ours, expected):  # random per process (SDK 1.43+)
        if "service.instance.id" in resource:
            assert len(str(resource.pop("service.instance.id"))) == 36
    assert ours == expected


@pytest.mark.parametrize(
    "environ,expected",
    [
        ({}, unused_init.KEEPS_INIT),
        ({"OTEL_TRACES_SAMPLER": "always_on"}, unused_init.KEEPS_INIT),
        ({"OTEL_TRACES_SAMPLER": "ParentBased_Always_Off"}, unused_init.DROPS_ALL),
        ({"OTEL_TRACES_SAMPLER": "always_off"}, unused_init.DROPS_ALL),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}, "keeps-init"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, "drops-all"),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}, unused_init.KEEPS_INIT),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "x"}, "needs-sdk"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, "needs-sdk"),
        ({"OTEL_TRACES_SAMPLER": "xray"}, unused_init.NEEDS_SDK),
    ],
)
def test_what_the_sampler_does_with_an_init_span(environ: dict[str, str], expected: str) -> None:
    assert unused_init.sampling(environ) == expected


LOOPBACK = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}


@pytest.mark.parametrize(
    "environ,needs",
    [
        (LOOPBACK, None),
        ({**LOOPBACK, "OTEL_TRACES_EXPORTER": "none"}, None),
        ({**LOOPBACK, "OTEL_TRACES_EXPORTER": "otlp,console"}, "OTEL_TRACES_EXPORTER"),
        ({**LOOPBACK, "OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER"),
        ({**LOOPBACK, "OTEL_PYTHON_ID_GENERATOR": "xray"}, "OTEL_PYTHON_ID_GENERATOR"),
        ({**LOOPBACK, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "5"}, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"),
        (
            {**LOOPBACK, "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel,process"},
            "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS",
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://api.honeycomb.io"}, "a collector"),
        ({**LOOPBACK, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "a collector"),
    ],
)
def test_settings_only_the_sdk_knows_take_the_sdk_path(
    environ: dict[str, str], needs: str | None
) -> None:
    why = unused_init.why_sdk_needed(environ)
    assert why == needs or (needs is not None and why is not None and why.startswith(needs))


_OTLP_VALUE = st.one_of(
    st.sampled_from(["nan", "-1", "inf", "0", "1e308", "gzip", "http/json", "grpc", ""]),
    st.sampled_from(["http://127.0.0.1:4318", "http://localhost:99999", "http://[::1]:4318"]),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                f"OTEL_EXPORTER_OTLP_{signal}{name}"
                for signal in ("", "TRACES_")
                for name in ("ENDPOINT", "PROTOCOL", "COMPRESSION", "TIMEOUT", "CERTIFICATE")
            ]
            + ["OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_TRACES_EXPORTER"]
        ),
        _OTLP_VALUE,
    )
)
def test_any_exporter_settings_give_a_decision_and_a_usable_collector(
    environ: dict[str, str],
) -> None:
    """Whatever a user (or a typo) puts in the variables: no exception, and a collector only
    with a finite positive timeout and a numeric port."""
    unused_init.why_sdk_needed(environ)
    unused_init.sampling(environ)
    collector = loopback_collector(environ)
    if collector is not None:
        assert 0 < collector.timeout_s < float("inf")
        assert collector.address.rpartition(":")[2].isdigit()
