"""The decorator in-process: the user's function is never broken by our own failures."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from in_process import provider_for
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init import instrument_handler
from otel_lambda_init._sdk import handler as handler_module
from otel_lambda_init._sdk import invocation

CONTEXT = SimpleNamespace(
    aws_request_id="req-1",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn:prod",
)


def test_handler_result_and_spans_outside_lambda(exporter: InMemorySpanExporter) -> None:
    # Outside a Lambda runtime the init span is opt-in (issue 13, item 11).
    @instrument_handler(tracer_provider=provider_for(exporter), init_span_outside_lambda=True)
    def handler(event: dict, context: object) -> dict:
        return {"echo": event["n"]}

    assert handler({"n": 7}, CONTEXT) == {"echo": 7}
    assert handler({"n": 8}, CONTEXT) == {"echo": 8}
    names = [span.name for span in exporter.get_finished_spans()]
    assert (names.count("fn"), names.count("init fn")) == (2, 1)
    first = [s for s in exporter.get_finished_spans() if s.name == "fn"][0]
    assert first.attributes["cloud.account.id"] == "123456789012"
    assert first.attributes["cloud.resource_id"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:fn"
    )
    assert first.attributes["faas.trigger"] == "other"


def test_a_bug_in_our_start_logs_once_and_the_handler_still_runs(
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr(handler_module.HandlerInstrumentation, "start", broken)
    calls = []

    @instrument_handler(tracer_provider=provider_for(exporter))
    def handler(event: dict, context: object) -> str:
        calls.append(event)
        return "result"

    with caplog.at_level(logging.WARNING, logger="otel_lambda_init"):
        assert handler({}, CONTEXT) == "result"
        assert handler({}, CONTEXT) == "result"
    assert len(calls) == 2
    assert len([r for r in caplog.records if "invocation span" in r.getMessage()]) == 1


def test_handler_exception_is_reraised_as_the_same_object(exporter: InMemorySpanExporter) -> None:
    error = KeyError("missing")

    @instrument_handler(tracer_provider=provider_for(exporter))
    def handler(event: dict, context: object) -> None:
        raise error

    with pytest.raises(KeyError) as raised:
        handler({}, CONTEXT)
    assert raised.value is error
    (invocation,) = [s for s in exporter.get_finished_spans() if s.name == "fn"]
    assert invocation.status.status_code.name == "ERROR"
    assert invocation.events[0].name == "exception"


@pytest.mark.parametrize(
    "event,trigger,kind",
    [
        ({"Records": [{"eventSource": "aws:sqs"}]}, "pubsub", "CONSUMER"),
        ({"Records": [{"EventSource": "aws:sns"}]}, "pubsub", "CONSUMER"),
        ({"Records": [{"eventSource": "aws:dynamodb"}]}, "datasource", "CONSUMER"),
        ({"requestContext": {}, "headers": {}}, "http", "SERVER"),
        ({"source": "aws.events", "detail-type": "Scheduled Event"}, "timer", "SERVER"),
        ([1, 2], "other", "SERVER"),
    ],
)
def test_trigger_and_kind_follow_the_event_shape(event: object, trigger: str, kind: str) -> None:
    found_trigger, found_kind = invocation.trigger_of(event)
    assert (found_trigger, found_kind.name) == (trigger, kind)


def test_bad_keyword_is_the_callers_error_named_at_decoration(
    exporter: InMemorySpanExporter,
) -> None:
    with pytest.raises(ValueError, match="sync"):
        instrument_handler(flush="later")(lambda e, c: None)


def test_init_span_sampler_records_init_but_leaves_invocations_to_the_users_sampler(
    exporter: InMemorySpanExporter,
) -> None:
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    from otel_lambda_init import InitSpanSampler

    # A ratio sampler that (almost) never samples; always_off is the user turning tracing
    # off, which INIT follows (issue 25, tests/unit/test_safety_unit.py).
    provider = TracerProvider(sampler=InitSpanSampler(ParentBased(TraceIdRatioBased(1e-12))))
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    # Outside a Lambda runtime the init span is opt-in (issue 13, item 11).
    @instrument_handler(tracer_provider=provider, init_span_outside_lambda=True)
    def handler(event: dict, context: object) -> str:
        return "ok"

    assert handler({}, CONTEXT) == "ok"
    assert handler({}, CONTEXT) == "ok"
    names = [s.name for s in exporter.get_finished_spans()]
    assert names.count("init fn") == 1  # recorded although its trace is not sampled
    assert "fn" not in names  # invocations: the user's sampler said no
