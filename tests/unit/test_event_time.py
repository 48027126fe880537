"""The trigger's clock: which event fields say when AWS received a request, and that no
input, however hostile, makes reading them raise or cost anything noticeable."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_lambda_init._core.event_time import (
    received_ns_from_event,
    received_ns_from_request_context,
)

MS = 1_000_000
T_MS = 1_790_935_900_260  # 2026-10-02, epoch ms

REST = {"resource": "/orders", "requestContext": {"requestTimeEpoch": T_MS, "stage": "prod"}}
HTTP_API = {"version": "2.0", "requestContext": {"timeEpoch": T_MS, "http": {"method": "GET"}}}
FUNCTION_URL = {"version": "2.0", "requestContext": {"timeEpoch": T_MS, "domainName": "x"}}
LATTICE_V2 = {
    "version": "2.0",
    "requestContext": {"serviceArn": "arn:aws:vpc-lattice:...", "timeEpoch": "1790935900260914"},
}


@pytest.mark.parametrize(
    "event,expected",
    [
        (REST, T_MS * MS),
        (HTTP_API, T_MS * MS),
        (FUNCTION_URL, T_MS * MS),
        (LATTICE_V2, 1_790_935_900_260_914_000),  # microseconds, as a string of digits
    ],
    ids=["api-gateway-rest", "http-api", "function-url", "vpc-lattice-v2"],
)
def test_each_synchronous_http_trigger_says_when_aws_received_the_request(
    event: dict[str, Any], expected: int
) -> None:
    assert received_ns_from_event(event) == expected
    assert received_ns_from_request_context(event["requestContext"]) == expected


@pytest.mark.parametrize(
    "event",
    [
        {"Records": [{"eventSource": "aws:sqs", "attributes": {"SentTimestamp": str(T_MS)}}]},
        {"Records": [{"Sns": {"Timestamp": "2026-10-02T10:00:00.000Z"}}]},
        {"detail-type": "x", "time": "2026-10-02T10:00:00Z"},  # EventBridge
        {"requestContext": {"elb": {"targetGroupArn": "arn"}}},  # ALB has no time
        {"requestContext": {"requestTime": "02/Oct/2026:10:00:00 +0000"}},  # text only
    ],
    ids=["sqs", "sns", "eventbridge", "alb", "rest-text-time-only"],
)
def test_asynchronous_and_timeless_events_give_no_time(event: dict[str, Any]) -> None:
    assert received_ns_from_event(event) is None


@pytest.mark.parametrize(
    "value",
    [
        str(T_MS),  # a string where API Gateway sends a number
        float(T_MS),
        T_MS + 0.5,
        -T_MS,
        0,
        10**30,
        True,
        None,
        {"ms": T_MS},
        [T_MS],
        T_MS // 1000,  # seconds, not ms: 1970
        T_MS * 1000,  # microseconds as a number: year 58000
        4_102_444_800_000,  # 2100-01-01: too far in the future
        1_300_000_000_000,  # 2011: before these triggers existed
        "1790935900260914.0",
        "17909359002609140",  # 17 digits
        "-790935900260914",
        "１７９０９３５９００２６０９１４",  # full-width digits: not ASCII
        "999999999999999",  # 15 digits
    ],
)
def test_malformed_time_fields_are_ignored(value: object) -> None:
    for key in ("requestTimeEpoch", "timeEpoch"):
        event = {"requestContext": {key: value}}
        if key == "timeEpoch" and value == "1790935900260914":
            continue
        assert received_ns_from_event(event) is None, (key, value)


def test_a_rest_time_field_decides_even_if_a_time_epoch_is_also_present() -> None:
    ctx = {"requestTimeEpoch": T_MS, "timeEpoch": T_MS + 5}
    assert received_ns_from_request_context(ctx) == T_MS * MS


class Exploding(dict):  # type: ignore[type-arg]
    def get(self, *args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    "event", [None, 1, "x", [REST], Exploding(), {1: 2}, {"requestContext": Exploding()}]
)
def test_events_that_are_not_plain_mappings_are_ignored(event: object) -> None:
    assert received_ns_from_event(event) is None
    assert received_ns_from_request_context(event) is None


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=20,
)
TIME_VALUES = (
    st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.text(alphabet="0123456789.-+e ", max_size=30)
    | st.text(max_size=30)
    | JSON
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    rest=TIME_VALUES,
    http=TIME_VALUES,
    extra=st.dictionaries(st.text(max_size=10), JSON, max_size=4),
)
def test_fuzzed_time_fields_never_raise_and_give_a_plausible_time_or_none(
    rest: object, http: object, extra: dict[str, Any]
) -> None:
    for ctx in ({**extra, "requestTimeEpoch": rest}, {**extra, "timeEpoch": http}, extra):
        for got in (
            received_ns_from_request_context(ctx),
            received_ns_from_event({"requestContext": ctx}),
        ):
            assert got is None or (type(got) is int and 1.4e18 < got < 4.2e18)


@FUZZ
@given(event=JSON)
def test_fuzzed_events_never_raise(event: object) -> None:
    received_ns_from_event(event)
    received_ns_from_request_context(event)
