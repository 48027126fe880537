"""Lifecycle events: subscribers run in the order they subscribed, ``last`` ones after every
other whenever they subscribed, and a failing subscriber stops nobody."""

from __future__ import annotations

import pytest

from otel_lambda_init._core import events as ev
from otel_lambda_init._core.events import Event, LifecycleEvents


def test_last_subscribers_run_after_the_others_whenever_they_subscribed() -> None:
    events = LifecycleEvents()
    heard: list[str] = []
    events.subscribe(ev.RESPONSE_POSTED, lambda e: heard.append("first"))
    events.subscribe(ev.RESPONSE_POSTED, lambda e: heard.append("counter"), last=True)
    events.subscribe(ev.RESPONSE_POSTED, lambda e: heard.append("delivery"))  # made later
    events.publish(Event(ev.RESPONSE_POSTED, 1))
    assert heard == ["first", "delivery", "counter"]


def test_a_failing_subscriber_does_not_stop_the_next() -> None:
    events = LifecycleEvents()
    heard: list[int] = []

    def broken(event: Event) -> None:
        raise RuntimeError("a subscriber's bug")

    events.subscribe(ev.SHUTDOWN, broken)
    events.subscribe(ev.SHUTDOWN, lambda e: heard.append(e.time_ns))
    events.publish(Event(ev.SHUTDOWN, 7))
    assert heard == [7]


def test_an_event_is_a_frozen_record_and_a_shutdown_without_a_bound_says_none() -> None:
    event = Event(ev.SHUTDOWN, 5)
    assert event.budget_s is None
    with pytest.raises(AttributeError):
        event.budget_s = 1.0  # type: ignore[misc]
