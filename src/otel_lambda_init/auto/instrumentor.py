"""``opentelemetry_instrumentor`` entry point: ``opentelemetry-instrument`` loads us too.

It adds our SpanProcessor to the TracerProvider the distro configured, so the invocation
span of ``opentelemetry-instrumentation-aws-lambda`` gets the init span, link and
attributes. ``instrument()`` never raises: ``opentelemetry-instrument`` stops loading every
later instrumentor when one raises.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from .._core.report import report_once


class OtelLambdaInitInstrumentor(BaseInstrumentor):
    """Puts the INIT beside whatever instrumentor makes the invocation span."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        try:
            from .._api_processor import ensure_processor
            from .._owner import sandbox
            from . import early

            if sandbox().config.disabled:
                return
            early.start("opentelemetry-instrument")
            provider = kwargs.get("tracer_provider") or trace.get_tracer_provider()
            if isinstance(provider, trace.ProxyTracerProvider):
                report_once(
                    "no-sdk-provider",
                    "opentelemetry-instrument configured no SDK TracerProvider "
                    "(OTEL_TRACES_EXPORTER?); no init span on this route",
                    exc_info=False,
                )
                return
            ensure_processor(provider)
        except Exception:
            report_once("instrumentor", "the opentelemetry-instrument entry point failed")

    def _uninstrument(self, **kwargs: Any) -> None:
        return None
