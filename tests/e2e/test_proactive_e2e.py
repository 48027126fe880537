"""Held-back first events (11 s, the default threshold): proactive vs provisioned.

The three sandboxes wait side by side, so the suite pays the 11 s once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan

HOLD_S = 11.0
CASES = {
    "auto": {"env": {}},
    "first-invocation": {"env": {"OTEL_LAMBDA_INIT_TRACE": "first-invocation"}},
    "provisioned": {"env": {}, "initialization_type": "provisioned-concurrency"},
}


@pytest.fixture(scope="module")
def held_back() -> Iterator[dict[str, tuple[ReceivedSpan, ReceivedSpan]]]:
    """Per case: the (init span, first invocation span) after an 11 s held-back event."""
    receivers: dict[str, OtlpReceiver] = {}
    with ExitStack() as stack:
        sandboxes = {}
        for case, options in CASES.items():
            receivers[case] = stack.enter_context(OtlpReceiver())
            sandboxes[case] = stack.enter_context(
                running_sandbox("manual_app.handler", receivers[case], **options)
            )
        for sandbox in sandboxes.values():
            assert sandbox.wait_init(30).status == "done"
        time.sleep(HOLD_S)
        for sandbox in sandboxes.values():
            assert sandbox.invoke({"n": 1}, timeout=30).status == "success"
        found = {}
        for case, receiver in receivers.items():
            spans = receiver.wait_for(
                lambda s: bool(init_spans(s)) and bool(invocation_spans(s)), timeout=20
            )
            found[case] = (init_spans(spans)[0], invocation_spans(spans)[0])
        yield found


@pytest.mark.slow
def test_first_event_after_eleven_seconds_is_proactive_in_its_own_trace(held_back) -> None:
    init, invocation = held_back["auto"]
    for span in (init, invocation):
        assert span.attributes["lambda_init.proactive_initialization"] is True
        assert span.attributes["faas.coldstart"] is False
        assert span.attributes["lambda_init.gap_ms"] >= 10_000
    assert init.trace_id != invocation.trace_id and init.parent_span_id is None
    assert [link.span_id for link in invocation.links] == [init.span_id]


@pytest.mark.slow
def test_first_invocation_mode_draws_the_proactive_init_in_the_invocation_trace(
    held_back,
) -> None:
    init, invocation = held_back["first-invocation"]
    assert init.attributes["lambda_init.proactive_initialization"] is True
    assert init.trace_id == invocation.trace_id
    assert init.parent_span_id == invocation.parent_span_id  # under the root
    assert invocation.start_ns - init.end_ns >= 10_000 * 1_000_000  # the gap is drawn
    assert [link.span_id for link in invocation.links] == [init.span_id]


@pytest.mark.slow
def test_provisioned_concurrency_held_back_is_neither_proactive_nor_cold(held_back) -> None:
    init, invocation = held_back["provisioned"]
    for span in (init, invocation):
        assert span.attributes["lambda_init.initialization_type"] == "provisioned-concurrency"
        assert span.attributes["lambda_init.proactive_initialization"] is False
        assert span.attributes["faas.coldstart"] is False
    assert init.trace_id != invocation.trace_id
    assert [link.span_id for link in invocation.links] == [init.span_id]
