"""awslambdaric makes the runtime's ``next`` on a helper thread on python3.12+ and in
containers: the hand-over is what that thread saw, not the main thread's start of the helper
and its own wake-up after (neither idle nor a caller's wait)."""

from __future__ import annotations

import sys
import threading
import time
import types

import pytest

from otel_lambda_init._core import events as ev
from otel_lambda_init._core.events import Event, NextTrip
from otel_lambda_init._owner import SandboxInstrumentation
from otel_lambda_init._probes.process import RUNTIME_CLIENT_MODULES
from otel_lambda_init._probes.runtime_hooks import RuntimeHooks

MS = 1_000_000


class _Invocation:
    deadline_time_in_ms = "0"


def _fake_client_module(before_s: float, hand_over_s: float, after_s: float) -> types.ModuleType:
    """A runtime client shaped like awslambdaric 4's: ``wait_next_invocation`` starts a helper
    that calls ``_get_next``; the main thread's own costs are sleeps around it."""

    class LambdaRuntimeClient:
        def _get_next(self) -> _Invocation:
            time.sleep(hand_over_s)
            return _Invocation()

        def wait_next_invocation(self) -> _Invocation:
            time.sleep(before_s)  # the helper thread's start, on a busy host
            got: list[_Invocation] = []
            helper = threading.Thread(target=lambda: got.append(self._get_next()))
            helper.start()
            helper.join(5)
            time.sleep(after_s)  # the main thread's wake-up
            return got[0]

        def post_invocation_result(self, *args: object) -> None: ...

    module = types.ModuleType(RUNTIME_CLIENT_MODULES[-1])
    module.LambdaRuntimeClient = LambdaRuntimeClient  # type: ignore[attr-defined]
    return module


def _first_next(
    monkeypatch: pytest.MonkeyPatch, client: types.ModuleType
) -> SandboxInstrumentation:
    for name in RUNTIME_CLIENT_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, RUNTIME_CLIENT_MODULES[-1], client)
    owner = SandboxInstrumentation(environ={})
    hooks = RuntimeHooks(owner.events.publish)
    assert hooks.install()
    client.LambdaRuntimeClient().wait_next_invocation()  # type: ignore[attr-defined]
    return owner


def test_the_hand_over_is_what_the_helper_thread_saw(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = _first_next(monkeypatch, _fake_client_module(0.03, 0.005, 0.03))
    init = owner.timeline.init
    assert init.ready_ns is not None and init.received_ns is not None
    hand_over_ms = (init.received_ns - init.ready_ns) / MS
    assert 5 <= hand_over_ms < 25, hand_over_ms  # not the 65 ms the main thread spent


def test_a_client_without_the_helper_keeps_the_main_threads_stamps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _fake_client_module(0.0, 0.0, 0.0)
    del client.LambdaRuntimeClient._get_next  # type: ignore[attr-defined]

    def wait_next_invocation(self: object) -> _Invocation:
        time.sleep(0.02)
        return _Invocation()

    client.LambdaRuntimeClient.wait_next_invocation = wait_next_invocation  # type: ignore[attr-defined]
    owner = _first_next(monkeypatch, client)
    init = owner.timeline.init
    assert init.ready_ns is not None and init.received_ns is not None
    assert (init.received_ns - init.ready_ns) / MS >= 20


def test_a_trip_from_before_the_runtime_was_ready_is_not_believed() -> None:
    # Stamps that do not fit inside the main thread's next (a stale helper) are not used.
    owner = SandboxInstrumentation(environ={})
    owner.events.publish(Event(ev.NEXT_REQUESTED, time.time_ns()))
    ready = owner.timeline.init.ready_ns
    assert ready is not None
    stale = NextTrip(ready - 50 * MS, ready - 40 * MS, 0)
    now = time.time_ns()
    owner.events.publish(Event(ev.INVOCATION_RECEIVED, now, cpu_wait_ns=None, next_trip=stale))
    assert owner.timeline.init.received_ns == now
