"""RecordedSpan / ReplayingTracer: the SDK span built after the fact has the identity, times,
sampling decision and content the recorded one had; nothing grows without bound."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, StatusCode

from otel_lambda_init._sdk.recorded_span import MAX_RECORDED, RecordedSpan, ReplayingTracer

pytestmark = pytest.mark.usefixtures("own_once_reports")


class CountingCoinSampler(Sampler):
    """Samples every other call: a replayed decision must not ask it again."""

    def __init__(self) -> None:
        self.calls = 0

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        self.calls += 1
        attributes = kwargs.get("attributes") or (args[4] if len(args) > 4 else None)
        decision = Decision.RECORD_AND_SAMPLE if self.calls % 2 else Decision.DROP
        return SamplingResult(decision, attributes)

    def get_description(self) -> str:
        return "coin"


def setup(sampler: Sampler | None = None) -> tuple[ReplayingTracer, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler) if sampler else TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return ReplayingTracer(provider.get_tracer("otel-lambda-init")), memory


def test_the_built_span_has_the_recorded_identity_times_and_content() -> None:
    recorder, memory = setup()
    span = recorder.record("fn", None, SpanKind.SERVER, 1_000, {"faas.trigger": "http"})
    assert isinstance(span, RecordedSpan)
    span.set_attribute("app.k", "v")
    span.add_event("e", {"x": 1}, timestamp=1_500)
    span.set_status(StatusCode.ERROR, "bad")
    span.update_name("fn renamed")
    span.end(end_time=2_000)
    span.materialize()
    (built,) = memory.get_finished_spans()
    assert built.context is not None
    assert (built.context.trace_id, built.context.span_id) == (
        span.context.trace_id,
        span.context.span_id,
    )
    assert built.context.trace_flags == span.context.trace_flags
    assert built.parent is None and built.kind == SpanKind.SERVER
    assert (built.start_time, built.end_time) == (1_000, 2_000)
    assert built.name == "fn renamed" and built.status.status_code == StatusCode.ERROR
    assert dict(built.attributes or {}) == {"faas.trigger": "http", "app.k": "v"}
    assert [(e.name, e.timestamp) for e in built.events] == [("e", 1_500)]


def test_the_sampling_decision_is_taken_once_and_replayed() -> None:
    sampler = CountingCoinSampler()
    recorder, memory = setup(sampler)
    kept = recorder.record("fn", None, SpanKind.SERVER, 1, {})
    dropped = recorder.record("fn", None, SpanKind.SERVER, 1, {})
    assert sampler.calls == 0  # nothing looked at either span yet: nobody was asked
    assert kept.get_span_context().trace_flags.sampled and kept.is_recording()
    assert not dropped.is_recording() and not dropped.get_span_context().trace_flags.sampled
    assert sampler.calls == 2  # once each, however often the identity is read
    for span in (kept, dropped):
        span.set_attribute("app.k", "v")
        span.end(2)
        span.materialize()
    assert sampler.calls == 2  # the build asked nobody
    assert [s.name for s in memory.get_finished_spans()] == ["fn"]  # the dropped one: not built


def test_a_remote_parent_is_kept() -> None:
    recorder, memory = setup()
    parent = trace.set_span_in_context(
        trace.NonRecordingSpan(
            trace.SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=trace.TraceFlags(1))
        )
    )
    span = recorder.record("fn", parent, SpanKind.SERVER, 1, {})
    assert isinstance(span, RecordedSpan)
    span.end(2)
    span.materialize()
    (built,) = memory.get_finished_spans()
    assert built.parent is not None and built.parent.span_id == 0xDEF
    assert built.context is not None and built.context.trace_id == 0xABC


def test_what_a_handler_records_is_bounded_and_nothing_after_the_end() -> None:
    recorder, memory = setup()
    span = recorder.record("fn", None, SpanKind.SERVER, 1, {})
    assert isinstance(span, RecordedSpan)
    for i in range(MAX_RECORDED * 3):
        span.set_attribute(f"k{i}", i)
        span.add_event(f"e{i}")
    span.end(2)
    span.end(99)  # the first end wins
    span.set_attribute("late", True)
    assert not span.is_recording()
    assert len(span.attributes) == MAX_RECORDED and span.end_time == 2
    span.materialize()
    (built,) = memory.get_finished_spans()
    assert "late" not in (built.attributes or {}) and built.end_time == 2
    assert len(built.events) <= MAX_RECORDED


def test_a_failing_processor_at_build_is_said_once_and_the_next_span_still_builds(
    caplog: Any,
) -> None:
    from opentelemetry.sdk.trace import SpanProcessor

    from otel_lambda_init._sdk.recorded_span import RecordedSpans

    class Explodes(SpanProcessor):
        def __init__(self) -> None:
            self.armed = True

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            if self.armed:
                self.armed = False
                raise RuntimeError("a user's processor failed")

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    explodes = Explodes()
    provider.add_span_processor(explodes)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    recorder = ReplayingTracer(provider.get_tracer("otel-lambda-init"))
    pending = RecordedSpans()
    for n in range(2):
        span = recorder.record(f"fn{n}", None, SpanKind.SERVER, 1, {})
        assert isinstance(span, RecordedSpan)
        span.end(2)
        assert pending.add(span)
    assert pending.materialize() == 2  # the first build fails inside the SDK, contained
    assert [s.name for s in memory.get_finished_spans()] == ["fn1"]
    assert caplog.text.count("could not build a warm invocation span") == 1
    assert len(pending) == 0


def test_a_span_kept_by_the_handler_after_it_returned_ignores_later_calls() -> None:
    import threading

    recorder, memory = setup()
    span = recorder.record("fn", None, SpanKind.SERVER, 1, {})
    assert isinstance(span, RecordedSpan)
    span.end(2)  # the invocation is over; a background thread of the handler goes on

    def late() -> None:
        span.set_attribute("late", 1)
        span.add_event("late")
        span.set_status(StatusCode.ERROR)
        span.update_name("late")
        span.end(99)

    worker = threading.Thread(target=late)
    worker.start()
    worker.join(5)
    span.materialize()
    (built,) = memory.get_finished_spans()
    assert built.name == "fn" and built.end_time == 2
    assert "late" not in (built.attributes or {}) and not built.events
    assert built.status.status_code == StatusCode.UNSET


def test_nobody_looked_so_the_identity_and_start_attributes_are_made_at_the_build() -> None:
    sampler = CountingCoinSampler()
    recorder, memory = setup(sampler)
    made: list[int] = []

    def start_attributes() -> dict[str, Any]:
        made.append(1)
        return {"faas.trigger": "other", "faas.coldstart": False}

    span = recorder.record("fn", None, SpanKind.SERVER, 1, start_attributes)
    span.set_attribute("app.k", "v")  # a call on the span does not need its identity
    span.end(2)
    assert (sampler.calls, made) == (0, [])  # the caller's path paid for neither
    span.materialize()
    assert (sampler.calls, made) == (1, [1])
    (built,) = memory.get_finished_spans()
    assert dict(built.attributes or {}) == {
        "faas.trigger": "other",
        "faas.coldstart": False,
        "app.k": "v",
    }
    assert built.context is not None and built.context.span_id == span.context.span_id


def test_a_child_made_before_the_build_points_at_the_built_span() -> None:
    recorder, memory = setup()
    provider_tracer = recorder.tracer
    span = recorder.record("fn", None, SpanKind.SERVER, 1, lambda: {})
    child = provider_tracer.start_span("child", context=trace.set_span_in_context(span))
    child.end()
    span.end(2)
    span.materialize()
    built_child, built = memory.get_finished_spans()
    assert built_child.parent is not None and built.context is not None
    assert built_child.parent.span_id == built.context.span_id
    assert built_child.context is not None
    assert built_child.context.trace_id == built.context.trace_id


def test_threads_asking_for_the_identity_at_once_all_get_the_same_one() -> None:
    import threading
    import time

    class SlowSampler(CountingCoinSampler):
        def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
            time.sleep(0.01)  # widens the race between the askers
            super().should_sample(*args, **kwargs)
            return SamplingResult(Decision.RECORD_AND_SAMPLE, kwargs.get("attributes"))

    recorder, memory = setup(SlowSampler())
    span = recorder.record("fn", None, SpanKind.SERVER, 1, {})
    seen: list[Any] = []
    barrier = threading.Barrier(4)

    def ask() -> None:
        barrier.wait(5)
        seen.append(span.get_span_context())

    workers = [threading.Thread(target=ask) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(5)
    assert len(seen) == 4 and len({(c.trace_id, c.span_id) for c in seen}) == 1
    span.end(2)
    span.materialize()
    (built,) = memory.get_finished_spans()
    assert built.context is not None and built.context.span_id == seen[0].span_id


def test_a_thread_asking_while_the_span_is_built_gets_the_built_identity() -> None:
    """A handler's thread still running after it returned asks for the span's identity
    while the SDK builds the span (nothing had asked before): it waits for the build and
    gets the identity the SDK gave, not another one."""
    import threading

    from opentelemetry.sdk.trace import SpanProcessor

    building = threading.Event()
    release = threading.Event()

    class Slow(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            building.set()
            release.wait(5)

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(Slow())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    recorder = ReplayingTracer(provider.get_tracer("otel-lambda-init"))
    span = recorder.record("fn", None, SpanKind.SERVER, 1, {})
    span.end(2)
    builder = threading.Thread(target=span.materialize)
    builder.start()
    assert building.wait(5)
    seen: list[Any] = []
    asker = threading.Thread(target=lambda: seen.append(span.get_span_context()))
    asker.start()
    asker.join(0.05)
    assert asker.is_alive()  # waiting for the build, not deciding an identity of its own
    release.set()
    builder.join(5)
    asker.join(5)
    (built,) = memory.get_finished_spans()
    assert built.context is not None and seen[0].span_id == built.context.span_id
