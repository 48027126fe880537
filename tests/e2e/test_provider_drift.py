"""One provider for every span of ours: ``instrument_handler(tracer_provider=p)`` in the default
placement sends the INIT-error span and SnapStart's publish-time span to ``p`` (before the
redesign they went to the global proxy provider and were lost)."""

from __future__ import annotations

import time
from pathlib import Path

from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

HANDLERS = Path(__file__).parents[1] / "handlers"


def test_init_error_span_reaches_the_decorators_provider() -> None:
    with (
        OtlpReceiver() as receiver,
        running_sandbox(
            "own_provider_app.handler", receiver, env={"RAISE_AT_INIT": "true"}
        ) as sandbox,
    ):
        outcome = sandbox.wait_init(30)
        assert outcome.status == "error" and outcome.error_type == "RuntimeError"
        spans = receiver.wait_for(lambda s: len(init_spans(s)) == 1, timeout=10)
    (init,) = init_spans(spans)
    assert init.status_code == "ERROR"
    assert init.resource["service.name"] == "own-provider"  # the decorator's provider


def test_snapstart_publish_span_reaches_the_decorators_provider() -> None:
    with (
        OtlpReceiver() as receiver,
        running_sandbox(
            "own_provider_app.handler", receiver, initialization_type="snap-start"
        ) as sandbox,
    ):
        assert sandbox.wait_init(30).status == "done"
        before = receiver.wait_for(lambda s: len(init_spans(s)) == 1, timeout=20)
        sandbox.api.allow_restore()
        assert sandbox.invoke({}, timeout=30).status == "success"
        spans = receiver.wait_for(
            lambda s: (
                len(invocation_spans(s)) == 1 and any(x.name.startswith("restore ") for x in s)
            ),
            timeout=20,
        )
        time.sleep(0.2)
    (publish,) = init_spans(before)
    assert publish.resource["service.name"] == "own-provider"
    assert publish.attributes["faas.coldstart"] is False
    (restore,) = [s for s in spans if s.name.startswith("restore ")]
    assert restore.resource["service.name"] == "own-provider"
