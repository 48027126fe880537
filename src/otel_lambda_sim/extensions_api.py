"""The Extensions API endpoints of a sandbox: register, event/next and the error posts.

Called by RuntimeApi's dispatcher with its lock free; state changes go through the rules under
the API's condition, as the Runtime API endpoints do.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from . import runtime_next
from .lambda_rules import Refusal
from .runtime_http import ApiHandler, decode_body

if TYPE_CHECKING:
    from .runtime_api import RuntimeApi

__all__ = ["extension_error", "extension_next", "register"]

_POLL_S = runtime_next.POLL_S


def register(api: RuntimeApi, h: ApiHandler, body: bytes) -> None:
    """POST register: the rules admit the extension; the answer names the function."""
    name = h.headers.get("Lambda-Extension-Name") or ""
    try:
        events = list((decode_body(body) or {}).get("events", []))
    except AttributeError:
        events = []
    with api._cond:
        ext = api.rules.register(name, events, str(uuid.uuid4()), time.time_ns())
        if isinstance(ext, Refusal):
            return h.reply(ext.status, ext.body())
        api._cond.notify_all()
    status, answer, headers = (
        200,
        {
            "functionName": api.function.function_name,
            "functionVersion": api.function.function_version,
            "handler": api.function.handler,
        },
        {"Lambda-Extension-Identifier": ext.id},
    )
    if api.faults.register is not None:
        api.faults.touched.append("register")
        status, answer, headers = api.faults.register(status, answer, headers)
        if status != 200 or "Lambda-Extension-Identifier" not in headers:
            with api._cond:  # refused: the platform does not wait for it either
                api.rules.extensions.pop(ext.id, None)
                api._cond.notify_all()
    h.reply(status, answer, headers=headers)


def extension_next(api: RuntimeApi, h: ApiHandler) -> None:
    """GET event/next: a long-poll until the rules hand this extension an event."""
    ext_id = h.headers.get("Lambda-Extension-Identifier") or ""
    with api._cond:
        gen = api.rules.generation
        ext = api.rules.extension_next(ext_id, time.time_ns())
        if isinstance(ext, Refusal):
            return h.reply(ext.status, ext.body())
        api._settle()
        # The last extension's next ends INIT: the runtime's event goes now, on this thread.
        send = runtime_next.hand_over_parked(api)
        api._cond.notify_all()
    if send is not None:
        send()
    with api._cond:
        early = None
        if api.faults.extension_next is not None:
            api.faults.touched.append("extension_next")
            early = api.faults.extension_next(ext.name, len(ext.next_ns))
        event = None
        while early is None and (event := api.rules.take_event(ext)) is None:
            if api._stopped or gen != api.rules.generation:
                return h.reply(500, {"errorType": "Extension.Reset"})
            api._cond.wait(_POLL_S)
    if early is not None:
        if isinstance(early, bytes):
            return h.reply(200, raw=early)
        status, body = early
        return h.reply(status, body)
    answer: Any = event
    if api.faults.extension_event is not None and event is not None:
        api.faults.touched.append("extension_event")
        answer = api.faults.extension_event(event)
    event_headers = {"Lambda-Extension-Event-Identifier": str(uuid.uuid4())}
    if isinstance(answer, bytes):
        return h.reply(200, raw=answer, headers=event_headers)
    h.reply(200, answer, headers=event_headers)


def extension_error(api: RuntimeApi, h: ApiHandler, path: str, body: bytes) -> None:
    """POST init/error or exit/error: recorded for tests, answered as Lambda does."""
    with api._cond:
        api.rules.extension_errors.append(
            {
                "path": path,
                "extension_id": h.headers.get("Lambda-Extension-Identifier"),
                "error_type": h.headers.get("Lambda-Extension-Function-Error-Type"),
                "body": decode_body(body),
            }
        )
    h.reply(202, {"status": "OK"})
