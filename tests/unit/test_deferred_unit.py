"""Deferred INIT's pure rules and its handler, without a sandbox: when deferral is allowed,
what the first invocation keeps, and that its spans are replayed once, after the response,
with the invocation's own times."""

from __future__ import annotations

from typing import Any

import pytest

from otel_lambda_init._core import events as ev
from otel_lambda_init._core.deferred import event_snapshot, why_not_defer
from otel_lambda_init._core.events import Event
from otel_lambda_init._owner import SandboxInstrumentation
from otel_lambda_init._sdk.deferred import DeferredHandler

ALLOWED = {
    "flush": "after-response",
    "trace_mode": "auto",
    "initialization_type": "on-demand",
    "opentelemetry_loaded": False,
    "after_response_running": True,
}


def test_deferral_allowed_only_when_nothing_needs_a_live_span() -> None:
    assert why_not_defer(**ALLOWED) is None  # type: ignore[arg-type]
    for change in (
        {"opentelemetry_loaded": True},
        {"flush": "sync"},
        {"after_response_running": False},
        {"trace_mode": "separate"},
        {"initialization_type": "snap-start"},
        {"initialization_type": "lambda-managed-instances"},
    ):
        assert why_not_defer(**{**ALLOWED, **change}), change  # type: ignore[arg-type]


def test_the_event_snapshot_does_not_follow_the_handlers_changes() -> None:
    event = {"headers": {"traceparent": "x"}, "Records": [{"eventSource": "aws:sqs"}], "k": 1}
    snapshot = event_snapshot(event)
    event["headers"]["traceparent"] = "changed"
    event["Records"][0]["eventSource"] = "changed"
    event["k"] = 2
    assert snapshot["headers"]["traceparent"] == "x"
    assert snapshot["Records"][0]["eventSource"] == "aws:sqs"
    assert snapshot["k"] == 1


class Context:
    aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"


class FakeInstrumentation:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start(self, event: Any, context: Any, start_ns: int | None = None) -> str:
        self.calls.append(("start", (event, context.aws_request_id, start_ns)))
        return "invocation"

    def finish(self, invocation: Any, error: Any, **kwargs: Any) -> None:
        self.calls.append(("finish", (invocation, error, kwargs)))


class FakeProvider:
    flushed = 0

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        self.flushed += 1
        return True


class Host:
    def __init__(self) -> None:
        self.finished: list[Any] = []
        self.init_end: list[int] = []

    def end_init(self, end_ns: int, source: str) -> None:
        self.init_end.append(end_ns)

    def invocation_finished(self, provider: Any) -> None:
        self.finished.append(provider)


def make(fn: Any) -> tuple[DeferredHandler, Host, FakeInstrumentation, FakeProvider, list[str]]:
    host, instrumentation, provider = Host(), FakeInstrumentation(), FakeProvider()
    built: list[str] = []

    def live(event: Any, context: Any) -> Any:
        return ("live", fn(event, context))

    def go_live() -> tuple[Any, Any, Any]:
        built.append("built")
        return instrumentation, live, provider

    return DeferredHandler(fn, host, go_live), host, instrumentation, provider, built  # type: ignore[arg-type]


def test_first_call_builds_nothing_and_delivery_replays_it_with_its_own_times() -> None:
    handler, host, instrumentation, provider, built = make(lambda e, c: {"n": e["n"]})
    assert handler({"n": 1}, Context()) == {"n": 1}
    assert built == []  # nothing from OpenTelemetry during the call
    (flushable,) = host.finished
    assert flushable is handler
    assert handler.force_flush(1000) is True  # what delivery calls after the response
    assert built == ["built"] and provider.flushed == 1
    (start, finish) = instrumentation.calls
    event, rid, start_ns = start[1]
    assert event == {"n": 1} and rid == "req-1" and isinstance(start_ns, int)
    invocation, error, kwargs = finish[1]
    assert error is None and kwargs["deliver"] is False and kwargs["end_ns"] >= start_ns
    assert handler({"n": 2}, Context()) == ("live", {"n": 2})  # live from now on
    assert built == ["built"]


def test_a_failing_first_call_raises_unchanged_and_its_error_is_replayed() -> None:
    boom = ValueError("boom")

    def fn(event: Any, context: Any) -> Any:
        raise boom

    handler, host, instrumentation, _, _ = make(fn)
    with pytest.raises(ValueError) as raised:
        handler({}, Context())
    assert raised.value is boom
    handler.force_flush()
    assert instrumentation.calls[1][1][1] is boom


def test_a_second_call_before_the_build_waits_for_it_then_runs_live() -> None:
    handler, host, instrumentation, _, built = make(lambda e, c: "ok")
    handler({}, Context())
    assert handler({}, Context()) == ("live", "ok")  # built and replayed first
    assert built == ["built"] and [c[0] for c in instrumentation.calls] == ["start", "finish"]


def test_shutdown_builds_what_was_deferred_before_exporting() -> None:
    owner = SandboxInstrumentation(environ={})

    class Deferred:
        materialized: list[str] = []

        def materialize_for_shutdown(self) -> None:
            self.materialized.append("for shutdown")  # only what the shutdown export needs

    owner.deferred = Deferred()
    owner.events.publish(Event(ev.SHUTDOWN, 0, budget_s=0.4))
    assert owner.deferred.materialized == ["for shutdown"]


def test_the_import_watch_calls_back_once_and_leaves_the_real_loader(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import sys

    from otel_lambda_init._probes.otel_watch import OpenTelemetryImportWatch

    # A package of its own stands in for opentelemetry.trace (the real one is imported).
    pkg = tmp_path / "watched_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "trace.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    calls: list[bool] = []
    watch = OpenTelemetryImportWatch(
        lambda: calls.append("watched_pkg.trace" in sys.modules), watched="watched_pkg.trace"
    )
    watch.start()
    try:
        watched = importlib.import_module("watched_pkg.trace")
        importlib.import_module("watched_pkg.trace")
    finally:
        watch.stop()
        for name in ("watched_pkg.trace", "watched_pkg"):
            sys.modules.pop(name, None)
    assert calls == [True]  # once, after the module executed, before the importer got it
    assert watched.VALUE == 1
    assert type(watched.__spec__.loader).__name__ == "SourceFileLoader"
    assert watch not in sys.meta_path
