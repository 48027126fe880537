"""Jaeger v2 (in-memory, every port on 127.0.0.1) given exactly what a sandbox exported.

A cold start's init span is a back-dated child that starts before its parent (the invocation
span), which is what Jaeger's clock-skew adjuster looks at. The OTLP requests the sandbox sent
are replayed byte for byte to Jaeger's OTLP/HTTP receiver and read back over both query APIs.
"""

from __future__ import annotations

import base64
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from components import jaeger_tags, running_jaeger, wait_until
from lambda_harness import (
    OtlpReceiver,
    assert_cold_start_shape,
    init_spans,
    invocation_spans,
    running_sandbox,
)

pytestmark = [pytest.mark.jaeger, pytest.mark.timeout(180)]


def hex_id(value: str, size: int) -> str:
    """Ids as Jaeger prints them: hex in api/v2 JSON; hex or base64 in api/v3 OTLP JSON."""
    if len(value) == size * 2:
        return value.lower()
    return base64.b64decode(value).hex()


def replay(requests: list[Any], endpoint: str) -> None:
    for raw in requests:
        headers = {k: v for k, v in raw.headers.items() if k.lower().startswith("content-")}
        headers.pop("Content-Length", None)
        headers.pop("content-length", None)
        request = urllib.request.Request(
            f"{endpoint}/v1/traces", data=raw.body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def test_jaeger_returns_the_timestamps_exactly_as_sent(tmp_path: Path) -> None:
    with OtlpReceiver() as receiver:
        with running_sandbox("manual_app.handler", receiver) as sandbox:
            assert sandbox.invoke({"n": 1}, timeout=30).status == "success"
            spans = receiver.wait_for(
                lambda s: bool(init_spans(s)) and bool(invocation_spans(s)), timeout=20
            )
        sent = [r for r in receiver.requests if r.path.endswith("/v1/traces")]
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    root = assert_cold_start_shape(spans, init, invocation)  # INIT and invocation under a root

    with running_jaeger(tmp_path) as jaeger:
        replay(sent, jaeger.otlp_endpoint)

        def both_stored() -> dict[str, Any] | None:
            trace = jaeger.trace(init.trace_id)
            ids = {s["spanID"] for s in trace["spans"]} if trace else set()
            return trace if {root.span_id, init.span_id, invocation.span_id} <= ids else None

        trace = wait_until(both_stored, 30, "Jaeger to store the cold start's trace")
        v3 = jaeger.trace_v3(init.trace_id)

    # api/v2 (what the UI draws, adjusters applied): microseconds.
    by_id = {s["spanID"]: s for s in trace["spans"]}
    for sent_span in (root, init, invocation):
        got = by_id[sent_span.span_id]
        assert got["startTime"] == sent_span.start_ns // 1000, sent_span.name
        assert got["duration"] == (sent_span.end_ns - sent_span.start_ns) // 1000, sent_span.name
        print(f"jaeger warnings on {sent_span.name!r}: {got.get('warnings')}")
    # A well-formed trace: no adjuster had anything to move, not even a warning.
    for sent_span in (root, init, invocation):
        assert not by_id[sent_span.span_id].get("warnings"), sent_span.name
    assert jaeger_tags(by_id[init.span_id])["faas.coldstart"] is True
    refs = by_id[invocation.span_id].get("references") or []
    assert init.span_id in {r["spanID"] for r in refs}  # the link

    # api/v3 (OTLP JSON): nanoseconds, exactly.
    v3_by_id = {hex_id(s["spanId"], 8): s for s in v3}
    for sent_span in (init, invocation):
        got = v3_by_id[sent_span.span_id]
        assert int(got["startTimeUnixNano"]) == sent_span.start_ns, sent_span.name
        assert int(got["endTimeUnixNano"]) == sent_span.end_ns, sent_span.name
