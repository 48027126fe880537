"""The ASGI and WSGI middleware in-process (no adapter): what is an invocation, what ends
INIT, what the spans say. The real adapter under RIE is tests/components/test_lwa_*.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from in_process import provider_for
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from otel_lambda_init._owner import reset_sandbox_for_tests
from otel_lambda_init.web import OtelLambdaInitMiddleware, OtelLambdaInitWSGIMiddleware
from otel_lambda_init.web._route import healthy_statuses

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:fn"


@pytest.fixture(autouse=True)
def web(exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OTEL_LAMBDA_INIT_SPAN_OUTSIDE_LAMBDA", "true")
    reset_sandbox_for_tests()  # reads the variable; forgets the web route
    yield


def lambda_context(request_id: str = "r-1") -> str:
    deadline = int(time.time() * 1000) + 30_000
    return json.dumps({"request_id": request_id, "deadline": deadline, "invoked_function_arn": ARN})


def adapter_headers(request_id: str = "r-1", time_epoch_ms: int | None = None) -> dict[str, str]:
    context: dict[str, Any] = {"http": {"method": "GET"}, "requestId": "api-req"}
    if time_epoch_ms is not None:
        context["timeEpoch"] = time_epoch_ms
    return {
        "x-amzn-lambda-context": lambda_context(request_id),
        "x-amzn-request-context": json.dumps(context),
    }


def starlette_app() -> Starlette:
    async def ready(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def order(request: Any) -> JSONResponse:
        return JSONResponse({"order": request.path_params["order_id"]})

    async def fail(request: Any) -> PlainTextResponse:
        return PlainTextResponse("down", status_code=503)

    return Starlette(
        routes=[Route("/", ready), Route("/orders/{order_id}", order), Route("/fail", fail)]
    )


def asgi_get(app: Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.get(path, headers=headers or {})

    return asyncio.run(go())


def invocations(exporter: InMemorySpanExporter) -> list[Any]:
    return [s for s in exporter.get_finished_spans() if "faas.invocation_id" in s.attributes]


def inits(exporter: InMemorySpanExporter) -> list[Any]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("init ")]


def test_readiness_probes_are_served_and_not_recorded_and_the_healthy_one_ends_init(
    exporter: InMemorySpanExporter,
) -> None:
    app = OtelLambdaInitMiddleware(
        starlette_app(), tracer_provider=provider_for(exporter), flush="none"
    )
    assert asgi_get(app, "/fail").status_code == 503  # unhealthy: INIT goes on
    assert asgi_get(app, "/").text == "ok"  # healthy: INIT ends here
    assert exporter.get_finished_spans() == ()
    response = asgi_get(app, "/orders/7", adapter_headers())
    assert response.json() == {"order": "7"}
    (invocation,) = invocations(exporter)
    (init,) = inits(exporter)
    assert init.attributes["lambda_init.end_source"] == "readiness-check"
    assert invocation.attributes["faas.invocation_id"] == "r-1"
    assert invocation.attributes["aws.lambda.invoked_arn"] == ARN
    assert invocation.attributes["cloud.account.id"] == "123456789012"
    assert invocation.attributes["faas.trigger"] == "http"
    assert invocation.attributes["http.request.method"] == "GET"
    assert invocation.attributes["http.response.status_code"] == 200
    assert invocation.attributes["lambda_init.sandbox_invocation"] == 1
    assert any(link.context.span_id == init.context.span_id for link in invocation.links)


def test_warm_requests_are_counted_and_not_cold(exporter: InMemorySpanExporter) -> None:
    app = OtelLambdaInitMiddleware(
        starlette_app(), tracer_provider=provider_for(exporter), flush="none"
    )
    asgi_get(app, "/")
    for n in range(3):
        asgi_get(app, f"/orders/{n}", adapter_headers(f"r-{n}"))
    spans = sorted(invocations(exporter), key=lambda s: s.start_time)
    assert [s.attributes["lambda_init.sandbox_invocation"] for s in spans] == [1, 2, 3]
    assert [s.attributes["faas.coldstart"] for s in spans[1:]] == [False, False]


def test_a_traceparent_from_the_caller_parents_the_invocation(
    exporter: InMemorySpanExporter,
) -> None:
    app = OtelLambdaInitMiddleware(
        starlette_app(), tracer_provider=provider_for(exporter), flush="none"
    )
    asgi_get(app, "/")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {**adapter_headers(), "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    asgi_get(app, "/orders/1", headers)
    (invocation,) = invocations(exporter)
    assert format(invocation.context.trace_id, "032x") == trace_id


def test_a_server_error_marks_the_invocation_span(exporter: InMemorySpanExporter) -> None:
    app = OtelLambdaInitMiddleware(
        starlette_app(), tracer_provider=provider_for(exporter), flush="none"
    )
    asgi_get(app, "/")
    assert asgi_get(app, "/fail", adapter_headers()).status_code == 503
    (invocation,) = invocations(exporter)
    assert invocation.status.status_code.name == "ERROR"


def test_an_app_that_raises_raises_unchanged_and_its_span_records_it(
    exporter: InMemorySpanExporter,
) -> None:
    async def boom(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/boom":
            raise KeyError("boom")
        await starlette_app()(scope, receive, send)

    app = OtelLambdaInitMiddleware(boom, tracer_provider=provider_for(exporter), flush="none")
    asgi_get(app, "/")
    with pytest.raises(KeyError, match="boom"):
        asgi_get(app, "/boom", adapter_headers())
    (invocation,) = invocations(exporter)
    assert invocation.status.status_code.name == "ERROR"


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def ready() -> str:
        return "ok"

    @app.get("/orders/<order_id>")
    def order(order_id: str) -> dict[str, str]:
        return {"order": order_id}

    return app


def test_wsgi_probes_end_init_and_invocations_are_linked(exporter: InMemorySpanExporter) -> None:
    app = flask_app()
    app.wsgi_app = OtelLambdaInitWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, tracer_provider=provider_for(exporter), flush="none"
    )
    client = app.test_client()  # buffered: it closes each response, as a server does
    assert client.get("/", buffered=True).text == "ok"
    assert exporter.get_finished_spans() == ()
    first = client.get("/orders/3", headers=adapter_headers(), buffered=True)
    assert first.json == {"order": "3"}
    second = client.get("/orders/4", headers=adapter_headers("r-2"), buffered=True)
    assert second.json == {"order": "4"}
    (init,) = inits(exporter)
    first, second = sorted(invocations(exporter), key=lambda s: s.start_time)
    assert init.attributes["lambda_init.end_source"] == "readiness-check"
    assert first.attributes["faas.invocation_id"] == "r-1"
    assert any(link.context.span_id == init.context.span_id for link in first.links)
    assert second.attributes["lambda_init.sandbox_invocation"] == 2
    assert second.attributes["http.response.status_code"] == 200


@pytest.mark.parametrize(
    ("spec", "healthy", "unhealthy"),
    [
        ({}, [100, 200, 404, 499], [500, 503]),
        ({"AWS_LWA_READINESS_CHECK_HEALTHY_STATUS": "200-399,404"}, [200, 301, 404], [401, 500]),
        ({"AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS": "400"}, [200, 399], [400, 404]),
        ({"AWS_LWA_READINESS_CHECK_HEALTHY_STATUS": "junk"}, [200, 499], [500]),
    ],
)
def test_healthy_statuses_are_the_adapters(
    spec: dict[str, str], healthy: list[int], unhealthy: list[int]
) -> None:
    statuses = healthy_statuses(spec)
    assert all(s in statuses for s in healthy)
    assert not any(s in statuses for s in unhealthy)


def test_a_forked_worker_is_told_from_the_process_that_forked_it() -> None:
    import os

    from otel_lambda_init._probes.process import server_worker_process

    assert server_worker_process() is False  # pytest's parent is not pytest
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # gunicorn's way: a fork, same executable and command line
        os.write(write, b"1" if server_worker_process() else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"


def test_when_our_span_cannot_start_the_request_is_served_and_still_finished(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = OtelLambdaInitMiddleware(
        starlette_app(), tracer_provider=provider_for(exporter), flush="none"
    )
    asgi_get(app, "/")
    route = app._route
    assert route is not None

    def broken(event: Any, context: Any) -> Any:
        raise RuntimeError("our bug")

    finished: list[str | None] = []

    class Extension:  # what the INVOKE extension hears: it must hear of every request
        def request_finished(self, request_id: str | None) -> None:
            finished.append(request_id)

    monkeypatch.setattr(route.instrumentation, "start", broken)
    monkeypatch.setattr(route, "extension", Extension())
    assert asgi_get(app, "/orders/8", adapter_headers("r-8")).json() == {"order": "8"}
    assert finished == ["r-8"]
