"""TracerProvider and exporter from the standard ``OTEL_*`` variables, for the wrapper route.

A provider that is already set (``opentelemetry-instrument``'s distro, the user's code) is
kept. Otherwise: the sandbox's Resource (``cloud.*``/``faas.*``) under whatever
``OTEL_RESOURCE_ATTRIBUTES``/``OTEL_SERVICE_NAME`` say, the service name defaulting to the
function name, and the exporters ``OTEL_TRACES_EXPORTER`` names (``otlp`` by default).
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace

from .._core.environment import SandboxEnvironment, traces_exporters, user_named_service
from .._core.report import logger, report_once
from .lazy_exporter import LazySpanExporter, otlp_exporter_factory
from .sampler import InitSpanSampler

_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def sandbox_resource(env: SandboxEnvironment) -> Any:
    """The sandbox's semconv attributes, overridden by anything the user set in OTEL_*."""
    from opentelemetry.sdk.resources import Resource

    ours: dict[str, Any] = dict(env.resource_attributes())
    if not user_named_service():
        ours["service.name"] = env.function_name
        return Resource.create(ours)
    return Resource(ours).merge(Resource.create())


class BuiltProvider:
    """The provider the wrapper route uses, and the exporters it built (renewed after a
    SnapStart restore)."""

    __slots__ = ("provider", "exporters")

    def __init__(self, provider: trace.TracerProvider, exporters: list[LazySpanExporter]) -> None:
        self.provider = provider
        self.exporters = exporters


def configure_tracer_provider(
    env: SandboxEnvironment, lazy_export: bool, held: bool = False
) -> BuiltProvider:
    """The global TracerProvider, created from the environment if nobody set one. Ours
    samples as ``OTEL_TRACES_SAMPLER`` says, inside ``InitSpanSampler`` so init spans are
    always recorded; with ``lazy_export`` the OTLP exporter is built on its first export;
    ``held`` (``sync``) keeps spans for delivery's flush, as after-response does."""
    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider):
        return BuiltProvider(current, [])
    from opentelemetry.sdk.trace import TracerProvider

    # No shutdown at interpreter exit: the SDK's would export without a bound (a handler
    # raising SystemExit with a hung collector held the caller's error for the exporter's
    # timeout and retries); the owner flushes at exit within the flush timeout instead.
    provider = TracerProvider(resource=sandbox_resource(env), shutdown_on_exit=False)
    # The SDK read OTEL_TRACES_SAMPLER (no sampler given): wrap that one. Its tracers take
    # the provider's public ``sampler`` when made, and none is made yet.
    provider.sampler = InitSpanSampler(provider.sampler)
    built = BuiltProvider(provider, [])
    for name in traces_exporters():
        try:
            _add_exporter(provider, built.exporters, name, lazy_export, held)
        except Exception:
            report_once(f"exporter-{name}", f"could not set up the {name!r} span exporter")
    trace.set_tracer_provider(provider)
    built.provider = trace.get_tracer_provider()
    return built


def _add_exporter(
    provider: Any, exporters: list[LazySpanExporter], name: str, lazy_export: bool, held: bool
) -> None:
    """Add the exporter ``name`` to our SDK ``provider``; built lazy ones go to ``exporters``."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if name in ("", "none"):
        return
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        return
    if name != "otlp":
        report_once(
            f"exporter-{name}",
            f"OTEL_TRACES_EXPORTER names {name!r}; the wrapper knows otlp, console and none",
            exc_info=False,
        )
        return
    if not any(os.environ.get(v) for v in _ENDPOINT_VARS):
        logger.warning(
            "otel-lambda-init: no OTEL_EXPORTER_OTLP_ENDPOINT set; spans go to the OTLP "
            "default on localhost (a collector extension's address)"
        )
    # Lazily built with after-response delivery: the exporter's imports (~90 ms) then run
    # after the first caller has its response, not in INIT (benchmarks/bench_init.py).
    # Always wrapped, so a SnapStart restore can renew its connections.
    exporter = LazySpanExporter(otlp_exporter_factory())
    if not lazy_export:
        exporter.build()
    exporters.append(exporter)
    if lazy_export or held:
        # After-response and sync: exports only when delivery flushes, on its thread. No
        # batch worker thread during INIT: one alive when the function calls gevent's
        # patch_all() fails its import (docs/safety.md).
        from .window_processor import AfterResponseSpanProcessor

        provider.add_span_processor(AfterResponseSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(exporter))
