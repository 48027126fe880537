"""A runtime's waiting ``next`` is answered by whichever thread makes its event deliverable,
as Lambda's Go Runtime API does in microseconds: waking the runtime's own thread took ms in
the simulator's shared interpreter (docs/simulator.md)."""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any

from otel_lambda_sim import runtime_http
from otel_lambda_sim.function import FunctionConfig
from otel_lambda_sim.runtime_api import RuntimeApi

NEXT = "/2018-06-01/runtime/invocation/next"


def _next(api: RuntimeApi, out: list[tuple[int, bytes, dict[str, str]]]) -> None:
    host, port = api.address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", NEXT)
    reply = conn.getresponse()
    out.append((reply.status, reply.read(), dict(reply.getheaders())))
    conn.close()


def _parked_runtime(api: RuntimeApi) -> tuple[threading.Thread, list[Any]]:
    """The runtime's first next, waiting in the API with INIT over and nothing queued."""
    api.rules.begin_init(time.time_ns())
    got: list[Any] = []
    runtime = threading.Thread(target=_next, args=(api, got))
    runtime.start()
    deadline = time.monotonic() + 5
    while api._parked is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert api._parked is not None, "the runtime's next never waited"
    return runtime, got


def test_an_event_queued_while_the_runtime_waits_goes_out_on_the_queueing_thread(
    monkeypatch: Any,
) -> None:
    writers: list[int] = []
    reply = runtime_http.ApiHandler.reply

    def recording(self: runtime_http.ApiHandler, status: int, *args: Any, **kw: Any) -> None:
        writers.append(threading.get_ident())
        reply(self, status, *args, **kw)

    monkeypatch.setattr(runtime_http.ApiHandler, "reply", recording)
    with RuntimeApi(FunctionConfig(handler="x.h")) as api:
        runtime, got = _parked_runtime(api)
        inv = api.enqueue({"n": 1})
        runtime.join(10)
    assert got and got[0][0] == 200 and got[0][1] == b'{"n": 1}'
    assert got[0][2]["Lambda-Runtime-Aws-Request-Id"] == inv.request_id
    assert writers == [threading.get_ident()]  # written here, not by a woken API thread
    assert inv.served_ns is not None


def test_a_failure_while_answering_from_another_thread_still_answers_the_runtime() -> None:
    with RuntimeApi(FunctionConfig(handler="x.h")) as api:
        runtime, got = _parked_runtime(api)

        def broken(headers: dict[str, str]) -> dict[str, str]:
            raise RuntimeError("a fault hook failed")

        api.faults.invocation_headers = broken
        api.enqueue({"n": 1})  # the queueing thread is not the one to see the failure
        runtime.join(10)
    assert got and got[0][0] == 500
    assert b"Simulator.InternalError" in got[0][1]
