"""The realistic function (boto3 and requests, benchmarks/handlers/realistic_app.py) on the
exec wrapper with ``OTEL_LAMBDA_INIT_INSTRUMENTORS``, through real awslambdaric: the
instrumentors' client spans are exported under the invocation span, cold and warm."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lambda_harness import assert_cold_start_shape, init_spans, invocation_spans, otel_env

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan
from otel_lambda_sim.sandbox import Sandbox

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
REALISTIC = "realistic_app.handler"

pytest.importorskip("boto3")
pytest.importorskip("opentelemetry.instrumentation.botocore")
pytest.importorskip("opentelemetry.instrumentation.requests")


@pytest.fixture
def stub_env() -> Iterator[dict[str, str]]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from stub_server import StubServer

        with StubServer() as stub:
            yield stub.env
    finally:
        sys.path.remove(str(BENCHMARKS))


def wrapper() -> str:
    path = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert path, "otel-lambda-init-wrapper is not installed next to the interpreter"
    return path


def children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [s for s in spans if s.parent_span_id == parent.span_id]


def test_client_spans_of_botocore_and_requests_are_exported_under_the_invocation_span(
    stub_env: dict[str, str],
) -> None:
    with OtlpReceiver() as receiver:
        env = {
            **otel_env(receiver),
            **stub_env,
            "AWS_LAMBDA_EXEC_WRAPPER": wrapper(),
            "OTEL_LAMBDA_INIT_INSTRUMENTORS": "botocore,requests,urllib3",
        }
        with Sandbox(REALISTIC, BENCHMARKS / "handlers", env=env) as sandbox:
            sandbox.start()
            assert sandbox.wait_init(60).ok
            results = [sandbox.invoke({"n": n}, timeout=60) for n in range(2)]
            spans = receiver.wait_for(lambda s: len(invocation_spans(s)) == 2, timeout=30)
            logs = sandbox.logs()
    assert [r.status for r in results] == ["success", "success"]
    assert results[0].payload == {"ok": True, "s3_bytes": 21, "prices": 200}
    (init,) = init_spans(spans)
    cold, warm = sorted(invocation_spans(spans), key=lambda s: s.start_ns)
    assert_cold_start_shape(spans, init, cold)
    for invocation in (cold, warm):
        clients = sorted((s.name, s.kind) for s in children(spans, invocation))
        # one span per call: requests' own span, no urllib3 span under it or under boto3's
        assert clients == [("GET", "CLIENT"), ("S3.GetObject", "CLIENT")], clients
        for client in children(spans, invocation):
            assert client.trace_id == invocation.trace_id
            assert invocation.start_ns <= client.start_ns <= client.end_ns <= invocation.end_ns
            assert not children(spans, client)
    # loading the instrumentors is our setup, not the libraries' imports: timed as setup
    # spans, and the import tracer does not run over it (no `import opentelemetry...`,
    # `wrapt` or `packaging` child: those are our cost, not the function's slow imports;
    # the shim's own import stays a child, test_attribution_e2e.py)
    setups = [s for s in spans if s.name == "otel-lambda-init setup"]
    assert len(setups) >= 4, [s.name for s in setups]  # the lookup, then one per instrumentor
    ours = ("import opentelemetry", "import wrapt", "import packaging", "import google")
    assert not [s.name for s in spans if s.name.startswith(ours)]
    # the exports themselves are not traced (no POST to the receiver among the spans)
    assert not [s for s in spans if s.kind == "CLIENT" and s.name not in ("GET", "S3.GetObject")]
    assert "Traceback" not in logs and "could not" not in logs
