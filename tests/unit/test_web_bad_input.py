"""Bad input in the adapter's headers: missing, malformed, huge, lying. Every request is served
unchanged (same status and body as the uninstrumented app), with one warning and no
traceback."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from in_process import provider_for
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from test_web_middleware import adapter_headers, asgi_get, lambda_context, starlette_app

from otel_lambda_init._owner import reset_sandbox_for_tests
from otel_lambda_init.web import OtelLambdaInitMiddleware, OtelLambdaInitWSGIMiddleware

pytestmark = pytest.mark.usefixtures("own_once_reports")


@pytest.fixture(autouse=True)
def web(exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OTEL_LAMBDA_INIT_SPAN_OUTSIDE_LAMBDA", "true")
    reset_sandbox_for_tests()
    yield


HUGE = "x" * 200_000
BAD = {
    "lambda context missing": {"x-amzn-request-context": "{}"},
    "lambda context not JSON": {"x-amzn-lambda-context": "{not json"},
    "lambda context a JSON list": {"x-amzn-lambda-context": "[1, 2]"},
    "lambda context huge": {"x-amzn-lambda-context": json.dumps({"request_id": HUGE})},
    "lambda context wrong types": {
        "x-amzn-lambda-context": json.dumps({"request_id": 7, "deadline": "soon"})
    },
    "request context not JSON": {
        "x-amzn-lambda-context": lambda_context(),
        "x-amzn-request-context": "timeEpoch=yesterday",
    },
    "request context huge": {
        "x-amzn-lambda-context": lambda_context(),
        "x-amzn-request-context": json.dumps({"timeEpoch": 1, "pad": HUGE}),
    },
    "request context time in the future": {
        "x-amzn-lambda-context": lambda_context(),
        "x-amzn-request-context": json.dumps({"timeEpoch": int(time.time() * 1000) + 3_600_000}),
    },
    "request context deeply nested": {
        "x-amzn-lambda-context": lambda_context(),
        "x-amzn-request-context": "[" * 5000 + "]" * 5000,
    },
}


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "otel_lambda_init" and r.levelno >= logging.WARNING
    ]


@pytest.mark.parametrize("case", sorted(BAD))
def test_asgi_bad_adapter_headers_serve_the_request_unchanged_with_one_warning(
    case: str, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    plain = asgi_get(starlette_app(), "/orders/5", BAD[case])
    app = OtelLambdaInitMiddleware(
        starlette_app(), tracer_provider=provider_for(exporter), flush="none"
    )
    asgi_get(app, "/")  # the readiness probe: INIT is over
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        served = asgi_get(app, "/orders/5", BAD[case])
        again = asgi_get(app, "/orders/5", BAD[case])
    assert (served.status_code, served.content) == (plain.status_code, plain.content)
    assert (again.status_code, again.content) == (plain.status_code, plain.content)
    records = warnings_of(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    assert not records[0].exc_info  # no traceback


@pytest.mark.parametrize("case", sorted(BAD))
def test_wsgi_bad_adapter_headers_serve_the_request_unchanged_with_one_warning(
    case: str, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    def flask_app() -> Flask:
        app = Flask(__name__)
        app.add_url_rule("/", "ready", lambda: "ok")
        app.add_url_rule("/orders/<order_id>", "order", lambda order_id: {"order": order_id})
        return app

    plain = flask_app().test_client().get("/orders/5", headers=BAD[case], buffered=True)
    app = flask_app()
    app.wsgi_app = OtelLambdaInitWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, tracer_provider=provider_for(exporter), flush="none"
    )
    client = app.test_client()
    client.get("/", buffered=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        served = client.get("/orders/5", headers=BAD[case], buffered=True)
        again = client.get("/orders/5", headers=BAD[case], buffered=True)
    assert (served.status_code, served.data) == (plain.status_code, plain.data)
    assert (again.status_code, again.data) == (plain.status_code, plain.data)
    records = warnings_of(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    assert not records[0].exc_info


def test_a_request_time_in_the_future_is_not_believed(exporter: InMemorySpanExporter) -> None:
    app = OtelLambdaInitMiddleware(
        starlette_app(), tracer_provider=provider_for(exporter), flush="none"
    )
    asgi_get(app, "/")
    future = int(time.time() * 1000) + 3_600_000
    assert asgi_get(app, "/orders/1", adapter_headers(time_epoch_ms=future)).json() == {
        "order": "1"
    }
    (invocation,) = [
        s for s in exporter.get_finished_spans() if "faas.invocation_id" in s.attributes
    ]
    assert "lambda_init.caller_wait_ms" not in invocation.attributes
