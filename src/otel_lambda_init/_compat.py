"""Every private or unsupported use of OpenTelemetry and awslambdaric, in one room.

Each use has a feature probe (it is looked up, never assumed; a miss falls back to what the
caller does without it), the versions it was checked against, and a drift test
(``tests/unit/test_compat_drift.py``) that fails loudly when an upgrade breaks it. Nothing is
imported at module level (it is on the INIT path): OpenTelemetry's parts are looked up when
an SDK adapter asks, awslambdaric's when the runtime client is loaded. It sits below the SDK
adapters; the owner hands the core and the probes what they need of it.

Checked against opentelemetry-api/sdk 1.24.0 and 1.45.1 and awslambdaric 3.0.0 and 4.2.2, the
oldest and newest of the ranges pyproject.toml declares (CI runs the core tests on both).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# -- OpenTelemetry ------------------------------------------------------------------------------

EXPORT_LOGGERS = (
    "opentelemetry.sdk._shared_internal",  # the batch processor's worker (SDK >= 1.34)
    "opentelemetry.sdk.trace.export",  # the batch processor before 1.34
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
)
"""Loggers of the SDK and its exporters that log every failed export (private module names:
a renamed one only loses the once-per-sandbox filter)."""


def tracer_with_sampler(tracer: Any, wrap: Callable[[Any], Any]) -> Any:
    """A copy of an SDK ``Tracer`` whose sampler is ``wrap(its sampler)``; None when the
    tracer has no sampler (not the SDK's). The SDK has no public way to add a sampler to a
    built provider; ``Tracer.sampler`` is a public attribute, copying the tracer is not."""
    sampler = getattr(tracer, "sampler", None)
    if sampler is None:
        return None
    import copy

    copied = copy.copy(tracer)
    copied.sampler = wrap(sampler)
    return copied


def can_move_span(span: Any) -> bool:
    """The SDK span keeps its identity and parent in ``_context`` and ``_parent``."""
    return hasattr(span, "_context") and hasattr(span, "_parent")


def move_span(span: Any, context: Any, parent: Any) -> bool:
    """Give a just-started SDK span another identity and parent (from ``on_start``, before
    anything has seen its ids). False when the span does not keep them where we look."""
    if not can_move_span(span):
        return False
    span._context = context
    span._parent = parent
    return True


def is_proxy_meter_provider(provider: Any) -> bool:
    """The metrics API's stand-in before ``set_meter_provider`` (recording there goes
    nowhere). False when the API has no such class (a future API: its proxy drops harmlessly)."""
    proxy = _proxy_meter_provider_class()
    return proxy is not None and isinstance(provider, proxy)


def _proxy_meter_provider_class() -> Any:
    try:
        from opentelemetry.metrics import _internal
    except ImportError:
        return None
    return getattr(_internal, "_ProxyMeterProvider", None)


def entry_points_of(group: str, name: str) -> list[Any]:
    """Entry points as OpenTelemetry itself finds them (its ``_importlib_metadata`` wrapper,
    which the propagators are loaded through), else the standard library's."""
    try:
        from opentelemetry.util._importlib_metadata import entry_points
    except ImportError:
        from importlib.metadata import entry_points  # type: ignore[assignment]
    return list(entry_points(group=group, name=name))


def dist_dependency_conflict(dist: Any) -> tuple[bool, Any]:
    """opentelemetry-instrumentation's check of an instrumentor's distribution against the
    installed libraries, as ``opentelemetry-instrument`` runs it: ``(True, conflict or None)``.
    ``(False, None)`` where the installed version cannot check an ``importlib.metadata``
    distribution (0.48b0 and earlier took a ``pkg_resources`` one; 0.66b1 takes ours): the
    instrumentor's own ``instrument()`` checks then."""
    if dist is None:
        return True, None
    try:
        from opentelemetry.instrumentation import dependencies
    except ImportError:
        return False, None
    kind = getattr(getattr(dependencies, "Distribution", None), "__module__", "")
    if not kind.startswith("importlib"):
        return False, None
    return True, dependencies.get_dist_dependency_conflicts(dist)


def suppress_instrumentation_key() -> Any:
    """The context key under which instrumentors make no spans (the SDK's batch processor
    exports with it set); private in the API (``opentelemetry.context``) since 1.0, checked
    against 1.24 to 1.45. None when gone: exports are then traced like any request."""
    from opentelemetry import context

    return getattr(context, "_SUPPRESS_INSTRUMENTATION_KEY", None)


def urllib3_exporter_transport() -> dict[str, Any]:
    """OTLP/HTTP exporter options that send with ``urllib3`` instead of ``requests``: the
    exporter's private ``_transport`` argument and the transport package's private module
    (opentelemetry-exporter-otlp-proto-http 1.45 with opentelemetry-exporter-http-transport
    0.66b1; retries, backoff, timeout, compression and headers stay the exporter's). Empty
    when the exporter predates transports (it then uses ``requests``)."""
    try:
        from opentelemetry.exporter.http.transport import _urllib3
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        return {}
    import inspect

    if "_transport" not in inspect.signature(OTLPSpanExporter.__init__).parameters:
        return {}
    return {"_transport": _urllib3.Urllib3HTTPTransport()}


# -- awslambdaric -------------------------------------------------------------------------------

CONFIG_MODULES = ("awslambdaric.lambda_config", "lambda_config")
"""Where ``LambdaConfigProvider`` lives (the second: run from awslambdaric's directory)."""
_THREAD_POLLING = "_parse_thread_polling"
_MARK = "__otel_lambda_init_hook__"


def force_thread_polling() -> bool:
    """Make awslambdaric wait for the next event on a helper thread even without
    ``AWS_EXECUTION_ENV`` (so a Python SIGTERM handler can run), by replacing its private
    ``LambdaConfigProvider._parse_thread_polling``. True when replaced now."""
    replaced = False
    for module_name in CONFIG_MODULES:
        provider = getattr(sys.modules.get(module_name), "LambdaConfigProvider", None)
        parse = getattr(provider, _THREAD_POLLING, None)
        if parse is None or getattr(parse, _MARK, None) is not None:
            continue

        def thread_polling(self: Any) -> bool:
            return True

        setattr(thread_polling, _MARK, parse)
        setattr(provider, _THREAD_POLLING, thread_polling)
        replaced = True
    return replaced


def runtime_get_handler() -> Callable[[str], Any] | None:
    """awslambdaric's private ``bootstrap._get_handler`` (loads ``module.function`` with the
    runtime's own error reports); None when not under awslambdaric or it is gone."""
    try:
        from awslambdaric import bootstrap
    except ImportError:
        return None
    get_handler: Callable[[str], Any] | None = getattr(bootstrap, "_get_handler", None)
    return get_handler
