"""The runtime's ``next``: a long-poll that whichever thread makes an event deliverable
answers, as Lambda's Go Runtime API does in microseconds (the runtime's own ``next`` when the
event was queued first; the enqueue; the last external extension's ``next`` ending INIT)."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .invocation import Invocation
    from .runtime_api import RuntimeApi
    from .runtime_http import ApiHandler

__all__ = ["POLL_S", "ParkedNext", "hand_over_parked", "runtime_next"]

POLL_S = 0.1
"""Blocked long-polls (the runtime's and extensions' next) re-check their condition this often,
so stop() and generation changes (a killed runtime) release them promptly."""
# How long a runtime's next, answered from another thread, keeps its connection for that write.
_SEND_WAIT_S = 5.0


class ParkedNext:
    """A runtime's next waiting for an event, answerable from whichever thread has one."""

    __slots__ = ("handed_over", "handler", "sent")

    def __init__(self, handler: ApiHandler) -> None:
        self.handler = handler
        self.handed_over = False
        self.sent = threading.Event()


def runtime_next(api: RuntimeApi, h: ApiHandler) -> None:
    """GET invocation/next: the next event, once INIT is over and the previous one complete."""
    with api._cond:
        gen = api.rules.generation
        api.rules.runtime_next(time.time_ns())
        api._settle()  # its next after the post may complete the current invocation
        api._cond.notify_all()
        parked = ParkedNext(h)
        # Answered by another thread meanwhile, it is that thread's to write, reset or not.
        while not parked.handed_over and not api.rules.may_deliver(bool(api._queue)):
            if api._stopped or gen != api.rules.generation:
                _unpark(api, parked)
                return h.reply(500, {"errorType": "Runtime.Reset"})
            if api.on_ready is not None and api.rules.may_deliver(True):
                # Without this API's lock: the fleet's may be held by a loop step that is
                # about to queue on this very API; the state is checked again after.
                api._cond.release()
                try:
                    api.on_ready()
                finally:
                    api._cond.acquire()
                if parked.handed_over or api._queue:
                    continue
            api._parked = parked
            api._cond.wait(POLL_S)
        _unpark(api, parked)
        send = None if parked.handed_over else _deliver(api, parked)
    if send is not None:
        send()
    parked.sent.wait(_SEND_WAIT_S)  # the connection stays open until the event is out


def hand_over_parked(api: RuntimeApi) -> Callable[[], None] | None:
    """(Caller holds api._cond, having just changed the state.) Give the parked runtime next
    its event now, or ask the fleet for a pending one (``on_ready``, whose enqueue hands it
    over); returns what to do once the lock is let go."""
    parked = api._parked
    if parked is None:
        return None
    if api.rules.may_deliver(bool(api._queue)):
        api._parked = None
        return _deliver(api, parked)
    if api.on_ready is not None and not api._queue and api.rules.may_deliver(True):
        return api.on_ready
    return None


def _unpark(api: RuntimeApi, parked: ParkedNext) -> None:
    if api._parked is parked:
        api._parked = None


def _deliver(api: RuntimeApi, parked: ParkedNext) -> Callable[[], None]:
    """(Caller holds api._cond.) The first queued event goes to ``parked``; returns the write,
    done without the lock."""
    parked.handed_over = True
    inv = api._queue.popleft()
    api._current = inv
    state = api.rules.deliver(inv.request_id, inv.trace_id, inv.deadline_ms, time.time_ns())
    inv.state = state
    inv.served_ns = state.served_ns
    inv.deadline_ms = state.deadline_ms
    api.served.append(inv)
    api._cond.notify_all()
    return functools.partial(_send_event, api, parked, inv)


def _send_event(api: RuntimeApi, parked: ParkedNext, inv: Invocation) -> None:
    headers = {
        "Lambda-Runtime-Aws-Request-Id": inv.request_id,
        "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
        "Lambda-Runtime-Invoked-Function-Arn": api.function.arn,
        "Lambda-Runtime-Trace-Id": inv.trace_id,
    }
    if inv.client_context:
        headers["Lambda-Runtime-Client-Context"] = inv.client_context
    if inv.cognito_identity:
        headers["Lambda-Runtime-Cognito-Identity"] = inv.cognito_identity
    try:
        if api.faults.invocation_headers is not None:
            api.faults.touched.append("invocation_headers")
            headers = api.faults.invocation_headers(headers)
        parked.handler.reply(200, raw=inv.body(), headers=headers)
    except Exception as exc:  # on whichever thread: the runtime's next is answered regardless
        error = {"errorMessage": repr(exc), "errorType": "Simulator.InternalError"}
        parked.handler.reply(500, error)
    finally:
        parked.sent.set()
