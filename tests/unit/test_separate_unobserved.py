"""``separate`` stays separate when INIT end is not seen through the runtime client (issue 13,
item 12): a custom runtime loop, a runtime client we cannot hook. The first invocation is
not a child of the INIT span."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init import instrument_handler
from otel_lambda_init._owner import reset_sandbox_for_tests

pytestmark = pytest.mark.usefixtures("own_once_reports")


@pytest.fixture
def sandbox_without_runtime_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")  # nothing ever calls it
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("OTEL_LAMBDA_INIT_TRACE", "separate")
    monkeypatch.setenv("OTEL_LAMBDA_INIT_FLUSH", "none")
    owner = reset_sandbox_for_tests()
    monkeypatch.setattr(owner.hooks, "install_when_loaded", lambda: None)
    monkeypatch.setattr(owner.hooks, "install", lambda: None)
    yield
    owner = reset_sandbox_for_tests()


def test_separate_init_span_is_never_the_first_invocations_parent(
    sandbox_without_runtime_hooks: None,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    @instrument_handler(tracer_provider=provider)  # during INIT: the init span opens here
    def handler(event: dict, context: object) -> str:
        return "ok"

    assert handler({}, SimpleNamespace(aws_request_id="req-1")) == "ok"
    spans = {s.name: s for s in exporter.get_finished_spans()}
    init, invocation = spans["init fn"], spans["fn"]
    assert invocation.parent is None
    assert invocation.context.trace_id != init.context.trace_id
    assert [link.context.span_id for link in invocation.links] == [init.context.span_id]
    assert not trace.get_current_span().get_span_context().is_valid  # nothing left attached
