"""Shared pieces of the in-process tests (no sandbox): an in-memory exporter with a fresh
owner around each test, a provider writing to it, and once-per-sandbox reports kept apart.
``conftest.py`` makes the fixtures available to every test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init._owner import reset_sandbox_for_tests


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Outside a sandbox, function ``fn``, our variables unset, a fresh owner."""
    for name in ("AWS_LAMBDA_RUNTIME_API", "OTEL_LAMBDA_INIT_TRACE", "OTEL_LAMBDA_INIT_FLUSH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    reset_sandbox_for_tests()
    yield InMemorySpanExporter()
    reset_sandbox_for_tests()


@pytest.fixture
def own_once_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a module's attacks report once stays theirs: other tests count their own reports
    (``pytestmark = pytest.mark.usefixtures("own_once_reports")``)."""
    from otel_lambda_init._core import report

    monkeypatch.setattr(report, "_reported", set())


def provider_for(memory: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider
