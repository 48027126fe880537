"""The internal Lambda extension: registered only so that Lambda sends SIGTERM at shutdown.

It registers for no events (internal extensions may not register for SHUTDOWN) and calls
``next`` once so that INIT can end; Lambda never waits for it during an invocation. SIGTERM is
the only chance to export an INIT nobody used. See docs/delivery.md, "Shutdown".
"""

from __future__ import annotations

import json
import os
import select
import time
from typing import Any

from .._core.report import report_once
from .._probes.native_thread import start_native_thread
from .local_http import LocalHTTPConnection

EXTENSION_NAME = "otel-lambda-init"
_REGISTER_PATH = "/2020-01-01/extension/register"
_NEXT_PATH = "/2020-01-01/extension/event/next"
# Set to the runtime's pid when it registers: a child process inheriting the environment must
# not register a second extension (Lambda would wait for its first next forever).
_OWNER_ENV = "_OTEL_LAMBDA_INIT_EXTENSION_PID"
_RETRY_MAX_S = 5.0
"""Longest pause between event/next retries after failures (they double from 50 ms)."""
_REGISTER_WAIT_S = 2.0
"""How long INIT waits for register's answer. A later one is not abandoned: Lambda may have
registered us and then waits for our first next until its INIT cap (the 10 s stall a busy host
showed); the extension's thread reads it and calls next."""


class Registration:
    """A register call sent; its answer is read once it has come (see ``_REGISTER_WAIT_S``)."""

    def __init__(self, runtime_api: str, events: list[str]) -> None:
        self._conn = LocalHTTPConnection(runtime_api, timeout=_REGISTER_WAIT_S)
        self._conn.request(
            "POST",
            _REGISTER_PATH,
            body=json.dumps({"events": events}),
            headers={"Lambda-Extension-Name": EXTENSION_NAME},
        )

    def answered_within(self, wait_s: float) -> bool:
        sock = self._conn.sock
        return sock is not None and bool(select.select([sock], [], [], wait_s)[0])

    def identifier(self, *, late: bool = False) -> str:
        """The extension's identifier from the answer; raises when Lambda refused. ``late``:
        read off INIT, as long as the answer takes (a daemon thread; the sandbox ends it)."""
        conn = self._conn
        try:
            if late and conn.sock is not None:
                conn.sock.settimeout(None)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"register answered {response.status}: {body[:200]!r}")
            extension_id = response.getheader("Lambda-Extension-Identifier")
            if not extension_id:
                raise RuntimeError("register answered without Lambda-Extension-Identifier")
            return extension_id
        finally:
            conn.close()


def register_or_await(runtime_api: str, events: list[str]) -> str | Registration:
    """The identifier when register answers within ``_REGISTER_WAIT_S`` (raises when Lambda
    refused), else the registration whose answer the extension's thread reads."""
    registration = Registration(runtime_api, events)
    if registration.answered_within(_REGISTER_WAIT_S):
        return registration.identifier()
    return registration


def next_event(conn: LocalHTTPConnection, extension_id: str | None) -> dict[str, Any]:
    """One blocking event/next call; raises on a failed call or an answer that is no event."""
    conn.request("GET", _NEXT_PATH, headers={"Lambda-Extension-Identifier": extension_id or ""})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"event/next answered {response.status}")
    event = json.loads(body or b"{}")
    if not isinstance(event, dict):
        # A 200 with "null" or a list: nothing to act on; next is called again.
        raise ValueError(f"event/next answered a {type(event).__name__}, not an event")
    return event


class ShutdownSignalExtension:
    """One internal extension per runtime process, registered during INIT for no events."""

    def __init__(self, runtime_api: str) -> None:
        self.runtime_api = runtime_api
        self.extension_id: str | None = None
        self.started = False
        self._late: Registration | None = None  # answered after INIT's wait: read on _run

    def register(self, claim: bool = True) -> None:
        """Register; raises if Lambda refuses (e.g. INIT is already over). An answer later
        than ``_REGISTER_WAIT_S`` is left to the extension's thread, never abandoned. With
        ``claim``, child processes are told they are not the runtime (LMI's workers are)."""
        registered = register_or_await(self.runtime_api, [])
        if isinstance(registered, Registration):
            self._late = registered
        else:
            self.extension_id = registered
        if claim:
            os.environ[_OWNER_ENV] = str(os.getpid())

    def start(self) -> None:
        # An operating-system thread even under gevent or eventlet (probes/native_thread.py).
        start_native_thread(self._run)
        self.started = True

    def _run(self) -> None:
        """Call next at once (INIT cannot end until every extension has), then again whenever
        it returns: it blocks until the sandbox ends. A failing Runtime API is retried with
        doubling pauses, never polled hot."""
        late, self._late = self._late, None
        if late is not None:
            try:
                self.extension_id = late.identifier(late=True)
            except Exception as error:
                _report_not_registered(error)
                return
        conn = LocalHTTPConnection(self.runtime_api)
        unexpected = 0  # answers in a row that were not a blocking wait: failures or events
        while True:
            try:
                event = next_event(conn, self.extension_id)
            except Exception:
                report_once("extension-next", "the extension's event/next call failed")
                conn.close()
                conn = LocalHTTPConnection(self.runtime_api)
            else:
                if event.get("eventType") == "SHUTDOWN":
                    return
                # Registered for no events, it is sent none: an API answering at once with
                # one is as broken as one failing, and is not polled hot either.
                report_once("extension-event", "the extension was sent an event it never asked for")
            time.sleep(min(_RETRY_MAX_S, 0.05 * 2 ** min(unexpected, 7)))
            unexpected += 1


def is_foreign_process() -> bool:
    """A child process that inherited the runtime's environment: only the runtime process
    registers."""
    owner = os.environ.get(_OWNER_ENV)
    return bool(owner) and owner != str(os.getpid())


def start_shutdown_signal(runtime_api: str, claim: bool = True) -> ShutdownSignalExtension | None:
    """Register and start the extension; None (logged once) when Lambda refuses."""
    extension = ShutdownSignalExtension(runtime_api)
    try:
        extension.register(claim)
    except Exception as error:
        _report_not_registered(error)
        return None
    extension.start()
    return extension


def _report_not_registered(error: BaseException) -> None:
    report_once(
        "extension-register",
        f"could not register the internal extension ({error}); without it Lambda sends "
        "no SIGTERM, so an INIT no invocation used is not exported at shutdown",
        exc_info=False,
    )
