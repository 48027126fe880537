"""A real backend: the simulator's spans sent to MLflow's OTLP endpoint and read back over REST.

Opt-in (``pytest -m mlflow``). MLflow pins many packages, so it may live in its own venv:
the test runs the ``mlflow`` executable named by ``MLFLOW_BIN``, else the one on ``PATH``, and
skips with the reason when there is none::

    python3 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install mlflow
    MLFLOW_BIN=/tmp/mlflow-venv/bin/mlflow python -m pytest -m mlflow \
        tests/components/test_mlflow_backend.py

One ``mlflow server`` (SQLite store, a free port, its own process group, killed at the end)
serves the module; each test has its own experiment. The sandbox exports with the variables a
user sets: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (MLflow serves OTLP/HTTP at ``/v1/traces``) and
``OTEL_EXPORTER_OTLP_HEADERS=x-mlflow-experiment-id=<id>``. Traces are read back with
``POST /api/3.0/mlflow/traces/search`` and ``GET /api/3.0/mlflow/traces/get`` (spans in OTLP
JSON form, ids base64).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lambda_harness import running_sandbox

pytestmark = pytest.mark.mlflow

HANDLER = "manual_app.handler"
SERVER_START_TIMEOUT_S = 120.0  # first start of a fresh SQLite store runs its migrations
TRACE_WAIT_S = 30.0


# --- the server ------------------------------------------------------------------------------
def _mlflow_bin() -> tuple[str | None, str]:
    """The executable to run, or None and why not."""
    named = os.environ.get("MLFLOW_BIN")
    if named:
        if os.access(named, os.X_OK):
            return named, ""
        return None, f"MLFLOW_BIN={named} is not an executable"
    found = shutil.which("mlflow")
    return (
        found,
        "" if found else "mlflow executable not found (pip install mlflow, or set MLFLOW_BIN)",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MlflowServer:
    base: str
    version: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def create_experiment(self) -> str:
        name = f"otel-lambda-init-{uuid.uuid4().hex[:8]}"
        return str(
            self.call("POST", "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]
        )

    def traces(self, experiment_id: str) -> list[MlflowTrace]:
        location = {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment_id},
        }
        infos = self.call(
            "POST", "/api/3.0/mlflow/traces/search", {"locations": [location], "max_results": 100}
        ).get("traces", [])
        out = []
        for info in infos:
            query = urllib.parse.urlencode({"trace_id": info["trace_id"], "allow_partial": "true"})
            trace = self.call("GET", f"/api/3.0/mlflow/traces/get?{query}")["trace"]
            out.append(MlflowTrace(trace["trace_info"], [_span(s) for s in trace.get("spans", [])]))
        return out

    def wait_traces(
        self, experiment_id: str, done: Callable[[list[MlflowTrace]], bool]
    ) -> list[MlflowTrace]:
        deadline = time.monotonic() + TRACE_WAIT_S
        traces: list[MlflowTrace] = []
        while time.monotonic() < deadline:
            traces = self.traces(experiment_id)
            if done(traces):
                return traces
            time.sleep(0.25)
        summary = [[s.name for s in t.spans if not s.name.startswith("import ")] for t in traces]
        raise AssertionError(
            f"MLflow did not show the expected traces in {TRACE_WAIT_S} s: {summary}"
        )


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    exe, why_not = _mlflow_bin()
    if exe is None:
        pytest.skip(why_not)
    version = subprocess.run(
        [exe, "--version"], capture_output=True, text=True, timeout=60, check=False
    ).stdout.strip()
    workdir = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                exe,
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{workdir / 'mlflow.db'}",
                "--default-artifact-root",
                str(workdir / "artifacts"),
            ],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: uvicorn workers die with it
        )
    try:
        server = MlflowServer(f"http://127.0.0.1:{port}", version)
        _wait_ready(server, proc, log_path)
        _warm_up(server)
        yield server
    finally:
        _stop_group(proc)


def _wait_ready(server: MlflowServer, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mlflow server exited {proc.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(server.base + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(
        f"mlflow server not ready in {SERVER_START_TIMEOUT_S} s:\n{_tail(log_path)}"
    )


def _warm_up(server: MlflowServer) -> None:
    """One span through MLflow's OTLP endpoint before the tests: its first ingestion loads
    the tracing store (seconds on a busy machine), longer than a sandbox's flush bound and
    its 500 ms shutdown budget, which would lose the spans of the first test's last call."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    experiment_id = server.create_experiment()
    exporter = OTLPSpanExporter(
        f"{server.base}/v1/traces", headers={"x-mlflow-experiment-id": experiment_id}, timeout=60
    )
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("warm-up").start_span("warm-up").end()
    provider.shutdown()


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is left (its job consumers linger)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


# --- what comes back -------------------------------------------------------------------------
@dataclass
class MlflowLink:
    trace_id: str
    span_id: str
    attributes: dict[str, Any]


@dataclass
class MlflowSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    links: list[MlflowLink]


@dataclass
class MlflowTrace:
    info: dict[str, Any]
    spans: list[MlflowSpan]

    def named(self, name: str) -> list[MlflowSpan]:
        return [s for s in self.spans if s.name == name]


def _hex(b64: str | None) -> str | None:
    return base64.b64decode(b64).hex() if b64 else None


def _value(any_value: dict[str, Any]) -> Any:
    if "string_value" in any_value:
        return any_value["string_value"]
    if "bool_value" in any_value:
        return bool(any_value["bool_value"])
    if "int_value" in any_value:
        return int(any_value["int_value"])  # int64: a string in canonical proto JSON
    if "double_value" in any_value:
        return float(any_value["double_value"])
    if "array_value" in any_value:
        return [_value(v) for v in any_value["array_value"].get("values", [])]
    return any_value


def _attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in items}


def _span(raw: dict[str, Any]) -> MlflowSpan:
    return MlflowSpan(
        name=raw["name"],
        trace_id=_hex(raw["trace_id"]) or "",
        span_id=_hex(raw["span_id"]) or "",
        parent_span_id=_hex(raw.get("parent_span_id")),
        start_ns=int(raw["start_time_unix_nano"]),
        end_ns=int(raw["end_time_unix_nano"]),
        attributes=_attributes(raw.get("attributes", [])),
        links=[
            MlflowLink(
                _hex(link["trace_id"]) or "",
                _hex(link["span_id"]) or "",
                _attributes(link.get("attributes", [])),
            )
            for link in raw.get("links", [])
        ],
    )


def _all_spans(traces: list[MlflowTrace]) -> list[MlflowSpan]:
    return [s for t in traces for s in t.spans]


def _invocations(traces: list[MlflowTrace]) -> list[MlflowSpan]:
    spans = [s for s in _all_spans(traces) if "faas.invocation_id" in s.attributes]
    return sorted(spans, key=lambda s: s.attributes["lambda_init.sandbox_invocation"])


def _has(init: int, invocations: int) -> Callable[[list[MlflowTrace]], bool]:
    def done(traces: list[MlflowTrace]) -> bool:
        spans = _all_spans(traces)
        return (
            len([s for s in spans if s.name == "init demo-fn"]) >= init
            and len(_invocations(traces)) >= invocations
            and len([s for s in spans if s.name == "work"]) >= invocations
        )

    return done


# --- the tests -------------------------------------------------------------------------------
def _run_sandbox(server: MlflowServer, experiment_id: str, **env: str) -> str:
    """Two invocations of one sandbox exporting to MLflow; returns its log stream name."""
    collector = SimpleNamespace(endpoint=server.base)  # what otel_env reads from a receiver
    headers = {"OTEL_EXPORTER_OTLP_HEADERS": f"x-mlflow-experiment-id={experiment_id}"}
    with running_sandbox(HANDLER, collector, env={**headers, **env}) as sandbox:  # type: ignore[arg-type]
        assert sandbox.wait_init(30).status == "done", sandbox.logs()
        for n in (1, 2):
            assert sandbox.invoke({"n": n}, timeout=30).status == "success", sandbox.logs()
        assert sandbox.log_stream_name is not None
        return sandbox.log_stream_name


def _assert_warm_second_invocation(traces: list[MlflowTrace], first: MlflowSpan) -> None:
    second = _invocations(traces)[1]
    assert second.attributes["lambda_init.sandbox_invocation"] == 2
    assert second.attributes["faas.coldstart"] is False
    assert second.links == []
    assert second.trace_id != first.trace_id


def test_cold_start_reaches_mlflow_as_one_trace_with_link(mlflow_server: MlflowServer) -> None:
    experiment_id = mlflow_server.create_experiment()
    stream = _run_sandbox(mlflow_server, experiment_id)
    traces = mlflow_server.wait_traces(experiment_id, _has(init=1, invocations=2))

    (init,) = [s for s in _all_spans(traces) if s.name == "init demo-fn"]
    invocation = _invocations(traces)[0]
    (trace,) = [t for t in traces if t.named("init demo-fn")]
    (work,) = [s for s in trace.spans if s.name == "work"]

    # Our attributes, with their types, on both spans.
    assert invocation.name == "demo-fn"
    assert invocation.attributes["faas.instance"] == stream
    assert invocation.attributes["lambda_init.sandbox_invocation"] == 1
    assert invocation.attributes["cloud.resource_id"].startswith("arn:aws:lambda:")
    for span in (init, invocation):
        assert span.attributes["faas.coldstart"] is True
        assert span.attributes["lambda_init.proactive_initialization"] is False
        assert span.attributes["lambda_init.initialization_type"] == "on-demand"
        assert span.attributes["lambda_init.phase"] == "init"
        assert 0 <= span.attributes["lambda_init.gap_ms"] < 2_000
        assert span.attributes["lambda_init.duration_ms"] > 0
    assert init.attributes["lambda_init.start_source"] == "proc"
    assert init.attributes["lambda_init.end_source"] == "runtime-next"

    # One trace, well-formed: a root from INIT start to the invocation's end holds the init
    # span and the invocation span (every span within its parent, so MLflow's timeline,
    # which starts at the root, draws INIT first, then the gap, then the invocation).
    assert init.trace_id == invocation.trace_id == work.trace_id
    assert trace.info["trace_id"] == f"tr-{invocation.trace_id}"
    (root,) = [s for s in trace.spans if s.parent_span_id is None]
    assert root.name == "cold start demo-fn"
    assert init.parent_span_id == invocation.parent_span_id == root.span_id
    assert work.parent_span_id == invocation.span_id
    assert root.start_ns == init.start_ns < init.end_ns <= invocation.start_ns
    assert invocation.end_ns <= root.end_ns
    by_id = {s.span_id: s for s in trace.spans}
    for span in trace.spans:
        parent = by_id.get(span.parent_span_id or "")
        assert parent is None or parent.start_ns <= span.start_ns <= span.end_ns <= parent.end_ns
    assert all(s.parent_span_id == init.span_id for s in trace.spans if s.name == "runtime")
    # The link fallback: each span's ids on the other, searchable where links are dropped.
    assert invocation.attributes["lambda_init.init_span_id"] == init.span_id
    assert init.attributes["lambda_init.first_invocation_span_id"] == invocation.span_id

    # The link to the init span, with its attribute.
    assert [(link.trace_id, link.span_id) for link in invocation.links] == [
        (init.trace_id, init.span_id)
    ]
    assert invocation.links[0].attributes == {"lambda_init.link": "init"}

    _assert_warm_second_invocation(traces, invocation)


def test_separate_init_trace_keeps_the_cross_trace_link(mlflow_server: MlflowServer) -> None:
    experiment_id = mlflow_server.create_experiment()
    _run_sandbox(mlflow_server, experiment_id, OTEL_LAMBDA_INIT_TRACE="separate")
    traces = mlflow_server.wait_traces(experiment_id, _has(init=1, invocations=2))

    (init,) = [s for s in _all_spans(traces) if s.name == "init demo-fn"]
    invocation = _invocations(traces)[0]

    assert init.parent_span_id is None and invocation.parent_span_id is None
    assert init.trace_id != invocation.trace_id
    # The init span carries INIT's own facts; whether anybody waited is on the invocation.
    assert init.attributes["lambda_init.initialization_type"] == "on-demand"
    assert init.attributes["lambda_init.start_source"] == "proc"
    assert invocation.attributes["faas.coldstart"] is True
    assert invocation.attributes["lambda_init.proactive_initialization"] is False
    assert [(link.trace_id, link.span_id) for link in invocation.links] == [
        (init.trace_id, init.span_id)
    ]
    assert invocation.links[0].attributes == {"lambda_init.link": "init"}
    _assert_warm_second_invocation(traces, invocation)
