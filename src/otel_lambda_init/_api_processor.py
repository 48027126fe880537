"""The public span processor for the route beside another instrumentor.

A module of its own because it subclasses the SDK's ``SpanProcessor``: importing the
decorator must not import the SDK.
"""

from __future__ import annotations

from opentelemetry.trace import TracerProvider

from ._owner import sandbox
from ._sdk.processor import InvocationSpanDecorator

__all__ = ["InitSpanProcessor", "ensure_processor"]


class InitSpanProcessor(InvocationSpanDecorator):
    """A SpanProcessor that puts the init span beside another instrumentor's invocation span
    (e.g. ``opentelemetry-instrumentation-aws-lambda``); it never creates one of its own."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        owner = sandbox()
        super().__init__(owner)
        if tracer_provider is not None:
            owner.use_provider(tracer_provider)
        owner.hooks.install()  # the runtime window tells which span is the invocation's
        if owner.init_in_progress:
            # As on the other routes: the internal extension makes Lambda send SIGTERM, which
            # ends an invocation span the function timeout cut and exports an unused INIT.
            owner.start_delivery()


def ensure_processor(tracer_provider: TracerProvider) -> InitSpanProcessor | None:
    """Add one ``InitSpanProcessor`` to an SDK TracerProvider (never twice). Returns None for
    providers that take no processors (the API's no-op or proxy provider)."""
    add = getattr(tracer_provider, "add_span_processor", None)
    if add is None or not sandbox().adopt_processor_provider(tracer_provider):
        return None
    processor = InitSpanProcessor(tracer_provider)
    add(processor)
    return processor
