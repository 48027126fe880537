"""The simulator's web-app shape: the real Lambda Web Adapter as an external extension of a
simulated sandbox, the app's run.sh behind the adapter layer's bootstrap. Unlike RIE, the
simulator can hold a finished sandbox idle, so a web app's proactive INIT shows here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lambda_harness import init_spans, invocation_spans, otel_env
from lwa_harness import WEB_APPS, lwa_bin

from otel_lambda_sim import OtlpReceiver, Sandbox, web_app

pytestmark = [pytest.mark.lwa, pytest.mark.timeout(180)]


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as r:
        yield r


def web_sandbox(receiver: OtlpReceiver) -> Sandbox:
    function = web_app.function_config(
        "run_uvicorn.sh", WEB_APPS, lwa_bin(), env=otel_env(receiver), function_name="web-fn"
    )
    return Sandbox(function)


def test_a_request_waiting_for_a_web_apps_init_is_its_cold_start(
    receiver: OtlpReceiver,
) -> None:
    with web_sandbox(receiver) as sandbox:
        sandbox.start()
        result = sandbox.invoke(web_app.http_api_event("/orders/1"), timeout=90)
        assert result.status == "success", result
        assert '"order":"1"' in result.payload["body"]
        spans = receiver.wait_for(lambda s: init_spans(s) and invocation_spans(s), 60)
    (first,) = invocation_spans(spans)
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.end_source"] == "readiness-check"
    assert first.attributes["faas.coldstart"] is True
    assert first.attributes["lambda_init.proactive_initialization"] is False


def test_a_web_app_initialized_with_nobody_waiting_is_proactive(
    receiver: OtlpReceiver,
) -> None:
    with web_sandbox(receiver) as sandbox:
        sandbox.start()
        assert sandbox.wait_init(60).ok
        time.sleep(1.0)  # the scenario itself: the sandbox sits ready, nobody waiting
        result = sandbox.invoke(web_app.http_api_event("/orders/2"), timeout=90)
        assert result.status == "success", result
        spans = receiver.wait_for(lambda s: init_spans(s) and invocation_spans(s), 60)
    (first,) = invocation_spans(spans)
    assert first.attributes["faas.coldstart"] is False
    assert first.attributes["lambda_init.proactive_initialization"] is True
    assert first.attributes["lambda_init.gap_ms"] >= 900


def test_the_app_port_is_the_same_for_the_adapter_and_the_app(tmp_path: Path) -> None:
    extensions, bootstrap = web_app.install(tmp_path, "/bin/true")
    assert web_app.PORT_SCRIPT in (extensions / "lambda-adapter").read_text()
    assert web_app.PORT_SCRIPT in bootstrap.read_text()
