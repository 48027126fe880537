"""A Sampler that records init spans whatever the user's sampler decides for the invocations:
INIT happens once per sandbox, and an unsampled first invocation must not hide it. A sampler
that samples no new trace at all (``always_off``, ``parentbased_always_off``, a ratio of 0) is
the user turning tracing off: then INIT follows it (docs/safety.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

from .._core import vocabulary as v


class InitSpanSampler(Sampler):
    """Records and samples the init span (it carries ``lambda_init.start_source`` at start)
    and its children under a sampled parent; every other span is the delegate's decision."""

    def __init__(self, delegate: Sampler | None = None) -> None:
        self.delegate: Sampler = delegate if delegate is not None else ParentBased(ALWAYS_ON)
        self._keeps_init: bool | None = None  # asked once, at the first init span

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if (
            attributes
            and (
                v.START_SOURCE in attributes
                or (v.CHILD in attributes and _parent_sampled(parent_context))
            )
            and self._samples_some_new_trace()
        ):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, _state(parent_context))
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def _samples_some_new_trace(self) -> bool:
        """Whether the delegate samples any trace started without a parent: asked for the
        lowest trace id (which every ratio above 0 samples), with an empty context."""
        if self._keeps_init is None:
            try:
                probe = self.delegate.should_sample(Context(), 0, "init", SpanKind.INTERNAL)
                self._keeps_init = probe.decision.is_sampled()
            except Exception:
                self._keeps_init = True
        return self._keeps_init

    def get_description(self) -> str:
        return f"InitSpanSampler{{{self.delegate.get_description()}}}"


def _parent_sampled(parent_context: Context | None) -> bool:
    parent = trace.get_current_span(parent_context).get_span_context()
    return parent.is_valid and parent.trace_flags.sampled


def _state(parent_context: Context | None) -> TraceState | None:
    parent = trace.get_current_span(parent_context).get_span_context()
    return parent.trace_state if parent.is_valid else None
