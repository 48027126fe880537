"""The real components the `rie`, `otelcol` and `jaeger` tests run: AWS's Lambda Runtime
Interface Emulator, a Collector built with the Collector Builder from collector/ocb/, and
Jaeger v2. One place that starts them, waits for them and reads them back, so a change of the
package layout or of a component's command line is fixed here only.

Binaries come from RIE_BIN / OTELCOL_BIN / JAEGER_BIN (what scripts/components.sh prints). When a
variable is unset and Go is on PATH, the script is run once (it builds what is missing, bounded,
and reuses what exists); only without Go does a test skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
COLLECTOR = ROOT / "collector"
COMPONENTS_SCRIPT = ROOT / "scripts" / "components.sh"
VARIABLES = ("RIE_BIN", "OTELCOL_BIN", "JAEGER_BIN")
# The opentelemetry-lambda components our extension configs use that the Go module proxy does
# not serve (403 "This module version is not available"): see collector/README.md.
LAMBDA_ONLY_COMPONENTS = {"processors": {"decouple"}, "receivers": {"telemetryapi"}}

T = TypeVar("T")
_built: dict[str, str] = {}


# --------------------------------------------------------------------------- binaries


def component_bin(variable: str) -> str:
    """The binary named by variable; built by scripts/components.sh when unset and Go exists."""
    value = os.environ.get(variable) or _built.get(variable)
    if value:
        assert os.access(value, os.X_OK), f"{variable}={value} is not an executable"
        return value
    if shutil.which("go") is None:
        pytest.skip(f"{variable} is unset and no Go toolchain is on PATH to build it")
    result = subprocess.run(
        ["bash", str(COMPONENTS_SCRIPT)], capture_output=True, text=True, timeout=3600
    )
    assert result.returncode == 0, f"scripts/components.sh failed:\n{result.stderr[-4000:]}"
    for line in result.stdout.splitlines():
        name, _, path = line.partition("=")
        if name in VARIABLES:
            _built[name] = path
    assert variable in _built, f"scripts/components.sh printed no {variable}:\n{result.stdout}"
    return _built[variable]


# --------------------------------------------------------------------------- plumbing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll check until it returns something truthy; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last_error, value = exc, None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} ({last_error!r})")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_json(method: str, url: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


class Process:
    """A component process, output in a log file, stopped with SIGTERM then SIGKILL."""

    def __init__(self, args: list[str], log_path: Path, **popen: Any) -> None:
        self.args = args
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout: float = 10) -> int:
        """SIGTERM the component; SIGKILL its process group if it outlives timeout."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if not self._log.closed:
            self._log.close()
        return int(self.proc.returncode)

    def kill_group(self) -> None:
        """Leave no child behind (the runtime RIE started, if RIE itself died)."""
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- RIE


def sandbox_env(**user: str) -> dict[str, str]:
    """What a function's environment holds before RIE adds the Lambda variables: a PATH (with
    this interpreter's scripts, where pip put otel-lambda-init-wrapper), HOME, and what the user
    configured. Nothing of the test runner's environment leaks in."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env.update(user)
    return env


@dataclass
class RieInvocation:
    status: int
    payload: Any
    latency_s: float  # caller-visible: request sent -> response read


class Rie(Process):
    """aws-lambda-rie running one runtime command (INIT starts at the first invoke)."""

    what = "aws-lambda-rie"  # who exited, in the failure message
    invoke_timeout_s = 60.0

    def __init__(
        self,
        command: list[str],
        cwd: Path,
        env: dict[str, str],
        log_path: Path,
        *,
        launcher: Sequence[str] = (),
        listen_s: float = 20,
    ):
        self.port = free_port()
        self.api_port = free_port()
        args = [
            *launcher,
            component_bin("RIE_BIN"),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{self.api_port}",
            *command,
        ]
        super().__init__(args, log_path, cwd=cwd, env=env)
        wait_until(lambda: port_open(self.port) or self._died(), listen_s, "RIE to listen")

    def _died(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.what} exited {self.proc.returncode}:\n{self.logs()}")
        return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations"

    def invoke(self, event: Any, timeout: float | None = None) -> RieInvocation:
        start = time.perf_counter()
        if timeout is None:
            timeout = self.invoke_timeout_s
        status, payload = http_json("POST", self.url, event, timeout=timeout)
        return RieInvocation(status, payload, time.perf_counter() - start)

    def runtime_pids(self) -> list[int]:
        """Live processes RIE started (its children: the runtime)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(stat[1]) == self.proc.pid and stat[0] != "Z":
                pids.append(int(entry.name))
        return pids


R = TypeVar("R", bound=Rie)


@contextmanager
def stopped_after(rie: R, terminate_s: float) -> Iterator[R]:
    """``rie`` for the block, then stopped: SIGTERM (``terminate_s`` to exit), its group killed."""
    try:
        yield rie
    finally:
        rie.terminate(timeout=terminate_s)
        rie.kill_group()


def running_rie(
    command: list[str], *, cwd: Path, env: dict[str, str], log_path: Path
) -> AbstractContextManager[Rie]:
    return stopped_after(Rie(command, cwd, env, log_path), 10)


# --------------------------------------------------------------------------- collector


def strip_lambda_only_components(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The config without the opentelemetry-lambda components our build lacks; and their ids."""
    out = json.loads(json.dumps(config))
    removed: list[str] = []
    for section, types in LAMBDA_ONLY_COMPONENTS.items():
        for component_id in list(out.get(section, {})):
            if component_id.split("/", 1)[0] in types:
                del out[section][component_id]
                removed.append(component_id)
    for pipeline in out.get("service", {}).get("pipelines", {}).values():
        for key in ("receivers", "processors"):
            pipeline[key] = [c for c in pipeline.get(key, []) if c not in removed]
    return out, removed


class Collector(Process):
    """The built collector with the given config files; OTLP/HTTP moved to a free 127.0.0.1 port
    (`--set`), its own telemetry off so two collectors never share port 8888."""

    def __init__(self, configs: list[Path], env: dict[str, str], log_path: Path) -> None:
        self.http_port = free_port()
        self.grpc_port = free_port()
        args = [component_bin("OTELCOL_BIN")]
        for config in configs:
            args += ["--config", str(config)]
        args += [
            f"--set=receivers::otlp::protocols::http::endpoint=127.0.0.1:{self.http_port}",
            f"--set=receivers::otlp::protocols::grpc::endpoint=127.0.0.1:{self.grpc_port}",
            "--set=service::telemetry::metrics::level=none",
        ]
        super().__init__(args, log_path, env={"PATH": os.environ.get("PATH", ""), **env})
        wait_until(lambda: self._ready(), 60, "the collector's OTLP/HTTP receiver")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"otelcol exited {self.proc.returncode}:\n{self.logs()}")
        return port_open(self.http_port) and "Everything is ready" in self.logs()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@contextmanager
def running_collector(
    configs: list[Path], *, env: dict[str, str], log_path: Path
) -> Iterator[Collector]:
    collector = Collector(configs, env, log_path)
    try:
        yield collector
    finally:
        collector.terminate(timeout=15)
        collector.kill_group()


def otelcol_validate(configs: list[Path], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = [component_bin("OTELCOL_BIN"), "validate"]
    for config in configs:
        args += ["--config", str(config)]
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )


# --------------------------------------------------------------------------- Jaeger


JAEGER_CONFIG = """\
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:{query_http}
    grpc:
      endpoint: 127.0.0.1:{query_grpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{otlp_http}
      grpc:
        endpoint: 127.0.0.1:{otlp_grpc}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"""


class Jaeger(Process):
    """Jaeger v2, in-memory storage, every port on 127.0.0.1 and free."""

    def __init__(self, workdir: Path) -> None:
        self.otlp_http = free_port()
        self.query_http = free_port()
        ports = {
            "otlp_http": self.otlp_http,
            "otlp_grpc": free_port(),
            "query_http": self.query_http,
            "query_grpc": free_port(),
        }
        config = workdir / "jaeger.yaml"
        config.write_text(JAEGER_CONFIG.format(**ports))
        super().__init__(
            [component_bin("JAEGER_BIN"), "--config", str(config)],
            workdir / "jaeger.log",
            env={"PATH": os.environ.get("PATH", "")},
        )
        wait_until(self._ready, 60, "Jaeger's query API")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"jaeger exited {self.proc.returncode}:\n{self.logs()}")
        return port_open(self.otlp_http) and http_json("GET", self.api("services"))[0] == 200

    @property
    def otlp_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.otlp_http}"

    def api(self, path: str) -> str:
        return f"http://127.0.0.1:{self.query_http}/api/{path}"

    def services(self) -> list[str]:
        return list(http_json("GET", self.api("services"))[1].get("data") or [])

    def traces(self, service: str, limit: int = 100) -> list[dict[str, Any]]:
        """Traces of a service from the query API the UI uses (adjusters applied)."""
        _, body = http_json("GET", self.api(f"traces?service={service}&limit={limit}&lookback=1h"))
        return list(body.get("data") or [])

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        status, body = http_json("GET", self.api(f"traces/{trace_id}"))
        if status != 200 or not body.get("data"):
            return None
        return dict(body["data"][0])

    def trace_v3(self, trace_id: str) -> list[dict[str, Any]]:
        """OTLP/JSON spans (ns timestamps) of a trace from the api/v3 query API, adjusted."""
        status, body = http_json("GET", self.api(f"v3/traces/{trace_id}"))
        if status != 200:
            return []
        spans = []
        for rs in (body.get("result") or {}).get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for span in ss.get("spans", []):
                    spans.append({**span, "_scope": ss.get("scope", {}).get("name")})
        return spans


@contextmanager
def running_jaeger(workdir: Path) -> Iterator[Jaeger]:
    jaeger = Jaeger(workdir)
    try:
        yield jaeger
    finally:
        jaeger.terminate(timeout=15)
        jaeger.kill_group()


def jaeger_tags(span: dict[str, Any]) -> dict[str, Any]:
    return {t["key"]: t["value"] for t in span.get("tags", [])}
