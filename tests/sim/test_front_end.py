"""The simulator's front end stamps each event as its trigger would, at the request's arrival,
by its own (possibly skewed) clock; what the instrumentation reads back is that instant."""

from __future__ import annotations

import pytest

from otel_lambda_init._core.event_time import received_ns_from_event
from otel_lambda_sim.front_end import FrontEnd
from otel_lambda_sim.scenarios import Scenario

ARRIVAL_NS = 1_790_000_000_123_456_789


@pytest.mark.parametrize("trigger", ["api-gateway-rest", "http-api", "function-url"])
@pytest.mark.parametrize("skew_ms", [0.0, 20.0, -20.0, 5.0])
def test_http_triggers_stamp_the_arrival_by_their_clock(trigger: str, skew_ms: float) -> None:
    event = FrontEnd(trigger, skew_ms).stamp({"work_ms": 5}, ARRIVAL_NS)
    expected_ms = (ARRIVAL_NS + int(skew_ms * 1_000_000)) // 1_000_000
    assert received_ns_from_event(event) == expected_ms * 1_000_000
    assert event["work_ms"] == 5


def test_the_users_request_context_is_kept() -> None:
    given = {"rawPath": "/orders/1", "requestContext": {"http": {"method": "POST"}}}
    event = FrontEnd("http-api").stamp(given, ARRIVAL_NS)
    assert event["rawPath"] == "/orders/1"
    assert event["requestContext"]["http"] == {"method": "POST"}
    assert given["requestContext"] == {"http": {"method": "POST"}}  # not changed in place


def test_sqs_says_when_a_message_was_sent_which_never_decides() -> None:
    event = FrontEnd("sqs").stamp({}, ARRIVAL_NS)
    assert event["Records"][0]["attributes"]["SentTimestamp"] == str(ARRIVAL_NS // 1_000_000)
    assert received_ns_from_event(event) is None


def test_a_scenario_names_its_front_end() -> None:
    assert FrontEnd.of(Scenario()) is None
    front = FrontEnd.of(Scenario(trigger="function-url", front_end_skew_ms=-5))
    assert front == FrontEnd("function-url", -5.0)
    with pytest.raises(ValueError, match="trigger must be one of"):
        FrontEnd("alb")
