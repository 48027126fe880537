"""Attacks of our own on the in-process parts (issue 13): each either fixed or shown safe.
The handler always runs exactly once and returns or raises unchanged."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from in_process import provider_for
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init import init_phase, instrument_handler
from otel_lambda_init._core.records import ChildRecords
from otel_lambda_init._probes import imports

CONTEXT = SimpleNamespace(aws_request_id="req-1")

pytestmark = pytest.mark.usefixtures("own_once_reports")


def invocation_spans(memory: InMemorySpanExporter) -> list[Any]:
    return [s for s in memory.get_finished_spans() if s.name == "fn"]


# Attack 1 (fixed): a recursive handler made one SERVER span and one count per level.
def test_a_recursive_handler_is_one_invocation_span_and_one_count(
    exporter: InMemorySpanExporter,
) -> None:
    @instrument_handler(tracer_provider=provider_for(exporter))
    def handler(event: dict, context: object) -> int:
        n = int(event["n"])
        return n if n == 0 else handler({"n": n - 1}, context) + n

    assert handler({"n": 5}, CONTEXT) == 15
    assert handler({"n": 3}, CONTEXT) == 6
    spans = invocation_spans(exporter)
    assert [s.attributes["lambda_init.sandbox_invocation"] for s in spans] == [1, 2]


# Attack 2 (fixed): an init phase entered on one thread and closed on another became the
# parent of every later phase of the first thread.
def test_a_phase_closed_on_another_thread_adopts_no_later_phase() -> None:
    records = ChildRecords()
    handed_over = records.open("load model", "phase", time.time_ns())
    closer = threading.Thread(target=records.close, args=(handed_over, time.time_ns()))
    closer.start()
    closer.join(5)
    later = records.open("warm cache", "phase", time.time_ns())
    assert later.parent is None


# Attack 3 (already safe): a TracerProvider whose get_tracer raises.
class BrokenProvider(TracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("broken provider")


def test_a_provider_whose_get_tracer_raises_leaves_the_handler_unchanged(
    exporter: InMemorySpanExporter,
) -> None:
    calls = []

    @instrument_handler(tracer_provider=BrokenProvider())
    def handler(event: dict, context: object) -> str:
        calls.append(event)
        return "ok"

    assert handler({"a": 1}, CONTEXT) == "ok"
    assert handler({"a": 2}, CONTEXT) == "ok"
    assert calls == [{"a": 1}, {"a": 2}]  # exactly once each


# Attack 4 (already safe): a handler returning a generator gets it back unconsumed.
def test_a_generator_result_is_returned_unconsumed(exporter: InMemorySpanExporter) -> None:
    consumed = []

    def numbers() -> Iterator[int]:
        for n in range(3):
            consumed.append(n)
            yield n

    gen = numbers()

    @instrument_handler(tracer_provider=provider_for(exporter))
    def handler(event: dict, context: object) -> Iterator[int]:
        return gen

    assert handler({}, CONTEXT) is gen
    assert consumed == []
    assert list(gen) == [0, 1, 2]


# Attack 5 (already safe): attributes a user passes that are not valid span attributes.
def test_invalid_user_attributes_never_break_the_handler(exporter: InMemorySpanExporter) -> None:
    attributes: Any = {1: "int key", "obj": object(), "nested": [1, {"a": 2}], "ok": "yes"}

    @instrument_handler(tracer_provider=provider_for(exporter), attributes=attributes)
    def handler(event: dict, context: object) -> str:
        return "ok"

    assert handler({}, CONTEXT) == "ok"
    (span,) = invocation_spans(exporter)
    assert span.attributes["ok"] == "yes"
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    encode_spans([span])  # the SDK coerced what it could not keep: the batch still exports


# Attack 6 (already safe): a module that takes our finder off sys.meta_path (or replaces the
# list) while INIT is being traced; stopping the tracer later must not raise.
def test_a_module_that_rebuilds_sys_meta_path_during_init(tmp_path: Any) -> None:
    tracer = imports.ImportTracer(ChildRecords(), 5.0, str(tmp_path))
    (tmp_path / "atk_rebuild.py").write_text(
        "import sys\n"
        "sys.meta_path = [f for f in sys.meta_path if 'Tracer' not in type(f).__name__]\n"
    )
    sys.path.insert(0, str(tmp_path))
    saved = sys.meta_path
    tracer.start()
    try:
        import atk_rebuild  # noqa: F401
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("atk_rebuild", None)
        tracer.stop()
        sys.meta_path = [f for f in saved if f is not tracer]
    assert not tracer.tracing


# Attack 7 (already safe): init_phase misuse: exit without enter, and enter twice.
def test_init_phase_exit_without_enter_and_double_enter_are_harmless(
    exporter: InMemorySpanExporter,
) -> None:
    phase = init_phase("never entered")
    phase.__exit__(None, None, None)
    twice = init_phase("entered twice")
    with twice, twice:
        pass
