"""Every private or unsupported use of OpenTelemetry and awslambdaric (``_compat``) still works
on the installed versions: each test fails loudly, naming what an upgrade broke. CI runs these
on the oldest and the newest supported opentelemetry-sdk and awslambdaric (.ci/run)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, TraceIdRatioBased

from otel_lambda_init import _compat
from otel_lambda_init._probes.runtime_hooks import CLIENT_CLASSES, HELPER_NEXT, RuntimeHooks
from otel_lambda_init._sdk.sampler import InitSpanSampler

SDK = version("opentelemetry-sdk")
RIC = version("awslambdaric")


def test_a_tracer_copy_takes_another_sampler_and_leaves_the_original_alone() -> None:
    # A ratio that (almost) never samples: always_off would turn INIT off too (issue 25).
    dropping = TraceIdRatioBased(1e-12)
    tracer = TracerProvider(sampler=dropping).get_tracer("drift")
    copied = _compat.tracer_with_sampler(tracer, InitSpanSampler)
    assert copied is not None, f"opentelemetry-sdk {SDK}: Tracer has no public 'sampler'"
    assert isinstance(copied.sampler, InitSpanSampler) and tracer.sampler is dropping
    attrs = {"lambda_init.start_source": "proc"}  # what the init span starts with
    assert copied.start_span("init fn", attributes=attrs).is_recording(), (
        f"opentelemetry-sdk {SDK}: a copied Tracer no longer uses its own 'sampler'"
    )
    assert not tracer.start_span("init fn", attributes=attrs).is_recording()


def test_a_started_sdk_span_can_be_moved_under_another_parent() -> None:
    tracer = TracerProvider(sampler=ALWAYS_ON).get_tracer("drift")
    span = tracer.start_span("invocation")
    root = tracer.start_span("root").get_span_context()
    assert _compat.can_move_span(span), f"opentelemetry-sdk {SDK}: Span._context/_parent gone"
    ctx = span.get_span_context()
    moved = trace.SpanContext(root.trace_id, ctx.span_id, False, ctx.trace_flags)
    assert _compat.move_span(span, moved, root)
    span.end()
    assert span.get_span_context().trace_id == root.trace_id, (
        f"opentelemetry-sdk {SDK}: Span._context no longer holds the span's identity"
    )
    assert span.parent is not None and span.parent.span_id == root.span_id, (
        f"opentelemetry-sdk {SDK}: Span._parent no longer holds the span's parent"
    )


def test_the_metrics_apis_stand_in_provider_is_recognised() -> None:
    from opentelemetry.metrics import NoOpMeterProvider, get_meter_provider

    assert _compat._proxy_meter_provider_class() is not None, (
        f"opentelemetry-api {version('opentelemetry-api')}: "
        "opentelemetry.metrics._internal._ProxyMeterProvider gone"
    )
    provider = get_meter_provider()
    if isinstance(provider, NoOpMeterProvider):  # another test set the global one
        pytest.skip("a MeterProvider was set in this process")
    assert _compat.is_proxy_meter_provider(provider)
    assert not _compat.is_proxy_meter_provider(NoOpMeterProvider())


def test_propagators_are_found_through_opentelemetrys_entry_points() -> None:
    from opentelemetry.util import _importlib_metadata

    assert hasattr(_importlib_metadata, "entry_points"), (
        f"opentelemetry-api {version('opentelemetry-api')}: "
        "opentelemetry.util._importlib_metadata.entry_points gone"
    )
    (found,) = _compat.entry_points_of("opentelemetry_propagator", "tracecontext")
    assert found.load()().fields == {"traceparent", "tracestate"}


def _module_logger(name: str) -> logging.Logger | None:
    module = importlib.import_module(name)
    found = [v for v in vars(module).values() if isinstance(v, logging.Logger)]
    return found[0] if found else None


@pytest.mark.parametrize("name", _compat.EXPORT_LOGGERS)
def test_each_export_logger_is_the_logger_of_its_module(name: str) -> None:
    package = name.rsplit(".", 1)[0]
    try:
        importlib.import_module(name)
    except ImportError:
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed")
        pytest.skip(f"{name}: not in this version (opentelemetry-sdk {SDK})")
    logger = _module_logger(name)
    assert logger is not None and logger.name == name, (
        f"opentelemetry-sdk {SDK}: {name} no longer logs under its own name"
    )


def test_the_loggers_that_report_failed_span_exports_are_all_filtered() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    processor = BatchSpanProcessor(OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces"))
    try:
        worker: Any = getattr(processor, "_batch_processor", processor)
        modules = {type(worker).__module__, OTLPSpanExporter.__module__}
    finally:
        processor.shutdown()
    missing = modules - set(_compat.EXPORT_LOGGERS)
    assert not missing, f"opentelemetry-sdk {SDK}: failed exports are now logged by {missing}"


def test_the_runtime_clients_methods_we_wrap_exist() -> None:
    client = importlib.import_module("awslambdaric.lambda_runtime_client").LambdaRuntimeClient
    table = RuntimeHooks(lambda event: None)._table()
    # awslambdaric 3.0's helper thread calls the C client itself: no helper stamps there.
    wanted = [method for method in table if method != HELPER_NEXT]
    missing = [method for method in wanted if not callable(getattr(client, method, None))]
    assert not missing, f"awslambdaric {RIC}: LambdaRuntimeClient lost {missing}"
    if callable(getattr(client, HELPER_NEXT, None)):
        waiting = inspect.getsource(client.wait_next_invocation)
        assert f"self.{HELPER_NEXT}" in waiting, (
            f"awslambdaric {RIC}: the helper thread no longer calls {HELPER_NEXT} (the first "
            "hand-over would again include the helper's start and the main thread's wake-up)"
        )
    module = sys.modules["awslambdaric.lambda_runtime_client"]
    assert hasattr(module, CLIENT_CLASSES[0])


def test_the_runtimes_handler_loader_loads_a_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    get_handler = _compat.runtime_get_handler()
    assert get_handler is not None, f"awslambdaric {RIC}: bootstrap._get_handler gone"
    (tmp_path / "drift_app.py").write_text("def handler(event, context):\n    return 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert get_handler("drift_app.handler")({}, None) == 42


def test_thread_polling_can_be_forced_where_awslambdaric_decides_it() -> None:
    try:
        config = importlib.import_module("awslambdaric.lambda_config")
    except ImportError:
        pytest.skip(f"awslambdaric {RIC} has no lambda_config: no helper-thread mode to force")
    provider = config.LambdaConfigProvider
    original = getattr(provider, "_parse_thread_polling", None)
    assert original is not None, (
        f"awslambdaric {RIC}: LambdaConfigProvider._parse_thread_polling gone (SIGTERM would "
        "not reach Python in a container image without AWS_EXECUTION_ENV)"
    )
    try:
        assert _compat.force_thread_polling()
        assert provider._parse_thread_polling(object()) is True
        assert not _compat.force_thread_polling()  # once: the replacement is marked
    finally:
        provider._parse_thread_polling = original


def test_an_instrumentors_distribution_is_checked_as_opentelemetry_instrument_does() -> None:
    from importlib.metadata import entry_points

    (found,) = [
        ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "requests"
    ]
    checked, conflict = _compat.dist_dependency_conflict(found.dist)
    instrumentation = version("opentelemetry-instrumentation")
    if not checked:  # the pkg_resources era: the instrumentor's own instrument() checks
        from opentelemetry.instrumentation import dependencies

        assert hasattr(dependencies, "get_distribution"), (
            f"opentelemetry-instrumentation {instrumentation}: neither check is there"
        )
        return
    assert conflict is None, (
        f"opentelemetry-instrumentation {instrumentation}: requests is installed, yet {conflict}"
    )


def test_the_suppress_instrumentation_key_is_the_one_the_sdk_batch_worker_sets() -> None:
    from opentelemetry import context
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    key = _compat.suppress_instrumentation_key()
    assert key is not None, f"opentelemetry-api {version('opentelemetry-api')}: no suppress key"
    assert key is context._SUPPRESS_INSTRUMENTATION_KEY
    source = Path(sys.modules[BatchSpanProcessor.__module__].__file__ or "").read_text()
    shared = sys.modules.get("opentelemetry.sdk._shared_internal")
    if shared is not None and shared.__file__:
        source += Path(shared.__file__).read_text()
    assert "_SUPPRESS_INSTRUMENTATION_KEY" in source, (
        f"opentelemetry-sdk {SDK}: the batch processor no longer exports under the suppress key"
    )


def test_the_otlp_exporter_still_takes_a_urllib3_transport() -> None:
    pytest.importorskip("opentelemetry.exporter.http.transport")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    options = _compat.urllib3_exporter_transport()
    assert set(options) == {"_transport"}, (
        f"OTLP/HTTP exporter {version('opentelemetry-exporter-otlp-proto-http')}: "
        "no '_transport' argument or no urllib3 transport"
    )
    exporter = OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces", **options)
    exporter.shutdown()
