"""The after-response span processor: spans wait for a flush, which exports them on the
flushing thread; nothing is exported on a timer."""

from __future__ import annotations

import threading

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from otel_lambda_init._sdk.window_processor import AfterResponseSpanProcessor


def make(sampler: object = None) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False, **({"sampler": sampler} if sampler else {}))
    provider.add_span_processor(AfterResponseSpanProcessor(exporter))
    return provider, exporter


def test_spans_wait_until_a_flush_and_leave_on_the_flushing_thread() -> None:
    provider, exporter = make()
    exported_on: list[str] = []
    original = exporter.export

    def export(spans):  # type: ignore[no-untyped-def]
        exported_on.append(threading.current_thread().name)
        return original(spans)

    exporter.export = export  # type: ignore[method-assign]
    tracer = provider.get_tracer("t")
    for name in ("a", "b"):
        tracer.start_span(name).end()
    assert exporter.get_finished_spans() == ()
    assert provider.force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == ["a", "b"]
    assert exported_on == [threading.current_thread().name]
    assert provider.force_flush()  # nothing waiting: no second export
    assert len(exported_on) == 1


def test_unsampled_spans_are_not_kept() -> None:
    provider, exporter = make(ALWAYS_OFF)
    provider.get_tracer("t").start_span("x").end()
    provider.force_flush()
    assert exporter.get_finished_spans() == ()


def test_a_full_queue_keeps_the_first_spans_and_drops_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "2")
    provider, exporter = make()
    tracer = provider.get_tracer("t")
    for n in range(4):
        tracer.start_span(f"s{n}").end()
    provider.force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == ["s0", "s1"]


def test_shutdown_exports_what_waits() -> None:
    provider, exporter = make()
    provider.get_tracer("t").start_span("last").end()
    provider.shutdown()
    assert [s.name for s in exporter.get_finished_spans()] == ["last"]


def test_a_flush_stops_at_its_timeout_and_the_rest_waits_for_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from otel_lambda_init._sdk import window_processor

    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1")
    clock = [100.0]
    monkeypatch.setattr(window_processor, "_monotonic", lambda: clock[0])
    exporter = InMemorySpanExporter()
    processor = AfterResponseSpanProcessor(exporter)
    original = exporter.export

    def slow_export(spans):  # type: ignore[no-untyped-def]
        clock[0] += 1.0  # each batch takes a second
        return original(spans)

    exporter.export = slow_export  # type: ignore[method-assign]
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    for name in ("a", "b", "c"):
        tracer.start_span(name).end()
    assert processor.force_flush(timeout_millis=1500) is False
    assert [s.name for s in exporter.get_finished_spans()] == ["a", "b"]
    tracer.start_span("d").end()
    assert processor.force_flush(timeout_millis=10_000) is True
    assert [s.name for s in exporter.get_finished_spans()] == ["a", "b", "c", "d"]


_FORK_WHILE_HELD = """
import os, signal, threading
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from otel_lambda_init._sdk.window_processor import AfterResponseSpanProcessor

processor = AfterResponseSpanProcessor(InMemorySpanExporter())
provider = TracerProvider(shutdown_on_exit=False)
provider.add_span_processor(processor)
held, release = threading.Event(), threading.Event()

def flushing():  # a flush on another thread, its queue lock taken at the moment of the fork
    with processor._lock:
        held.set()
        release.wait(30)

threading.Thread(target=flushing, daemon=True).start()
held.wait(30)
pid = os.fork()
if pid == 0:
    signal.alarm(10)  # bounded: a child stuck on the inherited lock ends by SIGALRM
    provider.get_tracer("child").start_span("square").end()
    os._exit(0)
release.set()
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def test_a_child_forked_while_a_flush_holds_the_queue_lock_still_ends_its_spans() -> None:
    """A function's pool worker forked while our flush held the queue lock inherited it held
    by a thread it does not have: its first ended span waited forever (the SDK's processors
    re-create theirs in the child, as this one now does)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _FORK_WHILE_HELD], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["0"], out
