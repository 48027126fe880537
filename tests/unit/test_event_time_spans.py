"""In process: the first invocation span (and the init span) say what the trigger's clock
decided and how long the request waited for INIT; later invocations and timeless events
carry no caller wait."""

from __future__ import annotations

import time
from types import SimpleNamespace

from in_process import provider_for
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init import instrument_handler

CONTEXT = SimpleNamespace(aws_request_id="req-1", invoked_function_arn="arn:aws:lambda:::fn")


def http_api_event(received_ms: int) -> dict:
    return {"version": "2.0", "requestContext": {"timeEpoch": received_ms, "http": {}}}


def spans(exporter: InMemorySpanExporter, name: str) -> list:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def test_a_request_received_before_init_end_waited_and_says_how_long(
    exporter: InMemorySpanExporter,
) -> None:
    received_ms = time.time_ns() // 1_000_000 - 250  # 250 ms before INIT end (decoration)

    @instrument_handler(tracer_provider=provider_for(exporter), init_span_outside_lambda=True)
    def handler(event: dict, context: object) -> str:
        return "ok"

    handler(http_api_event(received_ms), CONTEXT)
    handler(http_api_event(received_ms + 5_000), CONTEXT)
    first, second = spans(exporter, "fn")
    (init,) = spans(exporter, "init fn")
    assert first.attributes["faas.coldstart"] is True
    assert first.attributes["lambda_init.classified_by"] == "event-time"
    # INIT ended when the handler was decorated (the init span's end): the wait is measured
    # from there, however long the host took to get to the decoration.
    waited_ms = (init.end_time or 0) / 1e6 - received_ms
    assert waited_ms >= 249
    assert abs(first.attributes["lambda_init.caller_wait_ms"] - waited_ms) <= 1.0
    assert (
        init.attributes["lambda_init.caller_wait_ms"]
        == first.attributes["lambda_init.caller_wait_ms"]
    )
    assert "lambda_init.caller_wait_ms" not in second.attributes


def test_a_request_received_after_init_end_found_the_sandbox_ready(
    exporter: InMemorySpanExporter,
) -> None:
    @instrument_handler(tracer_provider=provider_for(exporter), init_span_outside_lambda=True)
    def handler(event: dict, context: object) -> str:
        return "ok"

    time.sleep(0.08)  # the sandbox sits ready; the request arrives 60+ ms after INIT end
    handler(http_api_event(time.time_ns() // 1_000_000 - 1), CONTEXT)
    (first,) = spans(exporter, "fn")
    assert (
        first.attributes["faas.coldstart"],
        first.attributes["lambda_init.proactive_initialization"],
    ) == (False, True)
    assert first.attributes["lambda_init.classified_by"] == "event-time"
    assert first.attributes["lambda_init.caller_wait_ms"] == 0.0


def test_an_sqs_event_has_no_caller_wait_and_the_sandbox_rules_decide(
    exporter: InMemorySpanExporter,
) -> None:
    @instrument_handler(tracer_provider=provider_for(exporter), init_span_outside_lambda=True)
    def handler(event: dict, context: object) -> str:
        return "ok"

    sent = str(time.time_ns() // 1_000_000 - 5_000)
    handler(
        {"Records": [{"eventSource": "aws:sqs", "attributes": {"SentTimestamp": sent}}]}, CONTEXT
    )
    (first,) = spans(exporter, "fn")
    assert "lambda_init.caller_wait_ms" not in first.attributes
    assert first.attributes["lambda_init.classified_by"] != "event-time"
