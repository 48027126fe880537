"""Web apps behind AWS's Lambda Web Adapter under RIE: the adapter as an external extension in
a private ``/opt/extensions``, the app's ``run.sh`` as the function's process (uvicorn for
FastAPI, gunicorn for Flask), real OTLP/HTTP to our receiver.

RIE is not Lambda (tests/components/test_rie_e2e.py): INIT starts at the first invoke, so the
first request always waited for it; RIE answers the caller only after every extension's
``next``, so our after-response export is on the caller's path here (not in Lambda).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from lambda_harness import (
    OtlpReceiver,
    assert_cold_start_shape,
    init_spans,
    invocation_spans,
    otel_env,
    span_by_id,
)
from lwa_harness import http_api_event, running_lwa

pytestmark = [pytest.mark.lwa, pytest.mark.rie, pytest.mark.timeout(240)]

EXECUTION_ENV = f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}"
PROBE_LOG = "readiness probe served"


def user_env(receiver: OtlpReceiver, **extra: str) -> dict[str, str]:
    return otel_env(receiver, AWS_EXECUTION_ENV=EXECUTION_ENV, **extra)


def now_ms() -> int:
    return int(time.time() * 1000)


def assert_web_cold_start(receiver: OtlpReceiver, invocations: int, log: str) -> None:
    """One init span ended by the readiness check, linked from the first of ``invocations``
    invocation spans (counted 1..n, the warm ones not cold); no probe became an invocation."""
    spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= invocations, timeout=60)
    spans = receiver.wait_for(lambda s: len(init_spans(s)) >= 1, timeout=30)
    served = sorted(invocation_spans(spans), key=lambda s: s.start_ns)
    assert len(served) == invocations  # the probes were served (log) but are no invocations
    assert log.count(PROBE_LOG) >= 1
    (init,) = init_spans(spans)
    first = served[0]
    assert init.attributes["lambda_init.end_source"] == "readiness-check"
    assert init.attributes["lambda_init.start_source"] == "proc"
    assert first.attributes["faas.coldstart"] is True
    assert first.attributes["lambda_init.proactive_initialization"] is False
    # The request context's timeEpoch (stamped as the invoke was sent; RIE starts INIT
    # then) says the request was received before INIT ended: it waited, this long.
    assert first.attributes["lambda_init.classified_by"] == "event-time"
    waited = first.attributes["lambda_init.caller_wait_ms"]
    assert 0 < waited <= first.attributes["lambda_init.duration_ms"] + 10
    assert init.attributes["lambda_init.caller_wait_ms"] == waited
    assert first.attributes["lambda_init.init_span_id"] == init.span_id
    assert any(link.span_id == init.span_id for link in first.links)
    assert first.attributes["faas.trigger"] == "http"
    assert first.attributes["http.response.status_code"] == 200
    from lambda_harness import outside_parent

    assert not outside_parent(spans), outside_parent(spans)
    assert_cold_start_shape(spans, init, first)
    assert [s.attributes["lambda_init.sandbox_invocation"] for s in served] == list(
        range(1, invocations + 1)
    )
    assert all(s.attributes["faas.coldstart"] is False for s in served[1:])
    assert len({s.attributes["faas.invocation_id"] for s in served}) == invocations
    # INIT as RIE measured it: from the runtime's start to the adapter's first next.
    assert span_by_id(spans, first.parent_span_id) is not None


def test_a_fastapi_cold_start_under_the_real_adapter(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    log_path = tmp_path / "sandbox.log"
    with running_lwa(
        "run_uvicorn.sh", env=user_env(receiver, TMPDIR=str(tmp_path)), log_path=log_path
    ) as sandbox:
        first = sandbox.invoke(http_api_event("/orders/1", now_ms()))
        assert first.status == 200 and first.payload["body"] == '{"order":"1"}'
        for n in range(2, 5):
            warm = sandbox.invoke(http_api_event(f"/orders/{n}", now_ms()))
            assert warm.payload["body"] == f'{{"order":"{n}"}}'
        log = sandbox.logs()
        # Everything left the sandbox before RIE answered (after-response, our extension).
        assert len(invocation_spans(receiver.spans())) == 4
    assert "External agent lambda-adapter" in log
    assert "Internal agent otel-lambda-init" in log and "subscribed to [INVOKE]" in log
    assert_web_cold_start(receiver, 4, log)


def test_spans_waiting_for_the_export_interval_leave_at_shutdown(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    env = user_env(receiver, TMPDIR=str(tmp_path), OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS="600000")
    with running_lwa("run_uvicorn.sh", env=env, log_path=tmp_path / "sandbox.log") as sandbox:
        sandbox.invoke(http_api_event("/orders/1", now_ms()))
        sandbox.invoke(http_api_event("/orders/2", now_ms()))
        sandbox.invoke(http_api_event("/orders/3", now_ms()))
        # RIE answered after our extension's next: the warm exports were skipped, not late.
        assert len(invocation_spans(receiver.spans())) == 1
    # RIE's shutdown: SIGTERM to the app, whose lifespan shutdown exports the rest.
    assert_web_cold_start(receiver, 3, sandbox.logs())


def test_a_flask_cold_start_under_gunicorn_and_the_real_adapter(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    log_path = tmp_path / "sandbox.log"
    with running_lwa(
        "run_gunicorn.sh", env=user_env(receiver, TMPDIR=str(tmp_path)), log_path=log_path
    ) as sandbox:
        first = sandbox.invoke(http_api_event("/orders/1", now_ms()))
        assert first.status == 200 and '"order":"1"' in first.payload["body"]
        for n in range(2, 4):
            warm = sandbox.invoke(http_api_event(f"/orders/{n}", now_ms()))
            assert f'"order":"{n}"' in warm.payload["body"]
        assert len(invocation_spans(receiver.spans())) == 3  # sync: flushed in the request
    log = sandbox.logs()
    # A worker process: no extension of ours (Lambda would wait on it for other workers'
    # requests); said once.
    assert "Internal agent otel-lambda-init" not in log
    assert log.count("after-response flushing is not available here") == 1
    assert_web_cold_start(receiver, 3, log)


def test_a_request_context_time_in_the_future_is_served_and_not_believed(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    env = user_env(receiver, TMPDIR=str(tmp_path))
    with running_lwa("run_uvicorn.sh", env=env, log_path=tmp_path / "sandbox.log") as sandbox:
        lying = sandbox.invoke(http_api_event("/orders/9", now_ms() + 3_600_000))
        assert lying.payload["body"] == '{"order":"9"}'
    spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 1, timeout=60)
    (first,) = invocation_spans(spans)
    # RIE starts INIT at this invoke: the request waited, whatever its context claims.
    assert first.attributes["faas.coldstart"] is True
    assert "lambda_init.caller_wait_ms" not in first.attributes
    assert first.attributes["lambda_init.classified_by"] != "event-time"
    log = sandbox.logs()
    assert log.count("says the request was received in the future") == 1
    assert "Traceback" not in log


def test_the_docs_example_runs_under_the_real_adapter(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    example = Path(__file__).parents[2] / "examples" / "web_app"
    env = user_env(receiver, TMPDIR=str(tmp_path))
    with running_lwa("run.sh", env=env, log_path=tmp_path / "log", cwd=example) as sandbox:
        done = sandbox.invoke(http_api_event("/orders/42", now_ms()))
        assert done.payload["body"] == '{"order":"42"}'
    spans = receiver.wait_for(lambda s: invocation_spans(s) and init_spans(s), timeout=60)
    (first,) = invocation_spans(spans)
    (init,) = init_spans(spans)
    assert any(link.span_id == init.span_id for link in first.links)
    assert first.attributes["lambda_init.classified_by"] == "event-time"


@pytest.mark.parametrize("run_script", ["run_launcher_uvicorn.sh", "run_launcher_gunicorn.sh"])
def test_the_launcher_instruments_an_unchanged_app(
    run_script: str, receiver: OtlpReceiver, tmp_path: Path
) -> None:
    env = user_env(receiver, TMPDIR=str(tmp_path))
    with running_lwa(run_script, env=env, log_path=tmp_path / "sandbox.log") as sandbox:
        first = sandbox.invoke(http_api_event("/orders/1", now_ms()))
        assert '"order":"1"' in first.payload["body"]
        warm = sandbox.invoke(http_api_event("/orders/2", now_ms()))
        assert '"order":"2"' in warm.payload["body"]
    spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2 and init_spans(s), 60)
    first_span, warm_span = sorted(invocation_spans(spans), key=lambda s: s.start_ns)
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.end_source"] == "readiness-check"
    assert any(link.span_id == init.span_id for link in first_span.links)
    assert first_span.attributes["lambda_init.classified_by"] == "event-time"
    assert warm_span.attributes["lambda_init.sandbox_invocation"] == 2
