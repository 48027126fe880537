"""Outside a Lambda runtime (issue 13, item 11): a plain unit test of a decorated handler gets
one span per call, no init span unless asked for, no flush thread and no flush wait."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init import instrument_handler
from otel_lambda_init._owner import reset_sandbox_for_tests

CONTEXT = SimpleNamespace(aws_request_id="req-1")

pytestmark = pytest.mark.usefixtures("own_once_reports")


class CountingProvider(TracerProvider):
    flushes = 0

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.flushes += 1
        return super().force_flush(timeout_millis)


@pytest.fixture
def unit_test_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(__import__("os").environ):
        if name.startswith(("AWS_LAMBDA_", "OTEL_LAMBDA_INIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")  # set by many unit tests
    reset_sandbox_for_tests()
    yield
    reset_sandbox_for_tests()


def test_twenty_calls_outside_lambda_make_twenty_spans_no_thread_and_no_flush(
    unit_test_process: None,
) -> None:
    exporter = InMemorySpanExporter()
    provider = CountingProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    threads_before = set(threading.enumerate())

    @instrument_handler(tracer_provider=provider)
    def handler(event: dict, context: object) -> int:
        return int(event["n"])

    assert [handler({"n": n}, CONTEXT) for n in range(20)] == list(range(20))
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["fn"] * 20
    assert provider.flushes == 0  # nothing to wait for: the user's processors export
    assert set(threading.enumerate()) == threads_before


def test_the_init_span_outside_lambda_is_there_when_asked_for(
    unit_test_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_LAMBDA_INIT_SPAN_OUTSIDE_LAMBDA", "true")
    reset_sandbox_for_tests()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    @instrument_handler(tracer_provider=provider)
    def handler(event: dict, context: object) -> None:
        return None

    handler({}, CONTEXT)
    handler({}, CONTEXT)
    names = [s.name for s in exporter.get_finished_spans()]
    assert (names.count("init fn"), names.count("fn")) == (1, 2)
