"""The simulator's web-app shape: the real Lambda Web Adapter as an external extension of a
simulated sandbox, the app's run.sh behind the adapter layer's bootstrap. Unlike RIE, the
simulator can hold a finished sandbox idle, so a web app's proactive INIT shows here."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lambda_harness import init_spans, invocation_spans, otel_env
from lwa_harness import WEB_APPS, lwa_bin

from otel_lambda_sim import OtlpReceiver, Sandbox, web_app

pytestmark = [pytest.mark.lwa, pytest.mark.timeout(180)]


def web_sandbox(receiver: OtlpReceiver, run_script: str = "run_uvicorn.sh", **env: str) -> Sandbox:
    function = web_app.function_config(
        run_script,
        WEB_APPS,
        lwa_bin(),
        env=otel_env(receiver, **env),
        function_name="web-fn",
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


@pytest.mark.parametrize("run_script", ["run_uvicorn.sh", "run_gunicorn.sh"])
def test_a_web_apps_init_nobody_used_is_exported_at_shutdown(
    run_script: str, receiver: OtlpReceiver
) -> None:
    # sync: the exporter is built during INIT. Under after-response it is built at the first
    # export, here inside the shutdown's bound, which a loaded host can overrun (docs). (A
    # gunicorn worker is sync anyway; its export runs at the worker's exit.)
    with web_sandbox(receiver, run_script, OTEL_LAMBDA_INIT_FLUSH="sync") as sandbox:
        sandbox.start()
        assert sandbox.wait_init(60).ok
        outcome = sandbox.shutdown()
        logs = sandbox.logs()
    try:
        spans = receiver.wait_for(lambda s: bool(init_spans(s)), 30)
    except TimeoutError as no_span:  # once at load 9: say how the sandbox ended, for next time
        raise AssertionError(f"no init span after {outcome!r}; logs: {logs[-4000:]}") from no_span
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.unused"] is True
    assert init.attributes["lambda_init.end_source"] == "readiness-check"
    assert not invocation_spans(spans)


def test_the_web_app_scenario_agrees_with_the_simulators_truth(receiver: OtlpReceiver) -> None:
    from otel_lambda_sim.fleet import Fleet
    from otel_lambda_sim.scenarios import load_scenario

    root = Path(__file__).parents[2]
    scenario = load_scenario(root / "examples" / "scenarios" / "web-app.yaml")
    lwa_bin()  # skips without the adapter; the scenario reads LWA_BIN
    # sync: a sandbox that serves nothing exports its INIT at shutdown with an exporter built
    # during INIT (after-response builds it inside the shutdown's bound: docs/web-apps.md).
    env = otel_env(receiver, OTEL_LAMBDA_INIT_FLUSH="sync")
    result = Fleet(scenario, code_dir=root / "examples" / "web_app", env=env).run()
    truth = result.truth_summary()
    spans = receiver.wait_for(lambda s: len(init_spans(s)) >= truth["initializations"], 60)
    inits = init_spans(spans)
    first = [s for s in invocation_spans(spans) if "lambda_init.classified_by" in s.attributes]
    assert truth["errors"] == 0
    assert len(inits) == truth["initializations"]
    assert sum(bool(s.attributes.get("lambda_init.unused")) for s in inits) == truth["unused"]
    assert sum(s.attributes["faas.coldstart"] for s in first) == truth["waited_for"]
    assert (
        sum(s.attributes["lambda_init.proactive_initialization"] for s in first)
        == truth["not_waited_for"]
    )
    assert len(invocation_spans(spans)) == truth["requests"]
