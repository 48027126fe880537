"""A Sampler that always records init spans, whatever the user's sampler decides for the
invocations: INIT happens once per sandbox, and an unsampled first invocation must not hide it.
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
        if attributes and (
            v.START_SOURCE in attributes
            or (v.CHILD in attributes and _parent_sampled(parent_context))
        ):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, _state(parent_context))
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"InitSpanSampler{{{self.delegate.get_description()}}}"


def _parent_sampled(parent_context: Context | None) -> bool:
    parent = trace.get_current_span(parent_context).get_span_context()
    return parent.is_valid and parent.trace_flags.sampled


def _state(parent_context: Context | None) -> TraceState | None:
    parent = trace.get_current_span(parent_context).get_span_context()
    return parent.trace_state if parent.is_valid else None
