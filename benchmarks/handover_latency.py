"""How fast is a request pending at INIT end handed to the runtime? AWS's RIE vs our simulator.

The idle-gap rule calls an INIT proactive when its first event comes more than a threshold
after the runtime's first ``next``; a request that waited is handed over at that ``next``, so
the threshold must exceed the hand-over latency and nothing else. This measures that latency
with one minimal runtime (stdlib HTTP, no awslambdaric, no instrumentation) under AWS's Runtime
Interface Emulator (the Runtime API Lambda runs) and under the simulator's Runtime API, each
with the event pending before the runtime's first ``next``, on an idle host and with both
cores kept busy by spinning processes. Usage:
    RIE_BIN=/path/to/aws-lambda-rie python benchmarks/handover_latency.py [--runs 25]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve()


def runtime_main() -> None:
    """The runtime: one ``next`` whose send and receive times go back as the response."""
    conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"], timeout=30)
    while True:
        sent = time.time_ns()
        conn.request("GET", "/2018-06-01/runtime/invocation/next")
        reply = conn.getresponse()
        reply.read()
        received = time.time_ns()
        request_id = reply.getheader("Lambda-Runtime-Aws-Request-Id")
        body = json.dumps({"handover_ms": (received - sent) / 1e6})
        conn.request("POST", f"/2018-06-01/runtime/invocation/{request_id}/response", body)
        conn.getresponse().read()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rie_once(rie_bin: str) -> float:
    """A fresh RIE (INIT starts at the invoke, so the event is pending at the first next)."""
    port, api = _free_port(), _free_port()
    args = [
        rie_bin,
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{port}",
        "--runtime-api-address",
        f"127.0.0.1:{api}",
        sys.executable,
        str(HERE),
        "--runtime",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url, data=b"{}", timeout=30) as reply:
                    return float(json.loads(reply.read())["handover_ms"])
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sim_once() -> float:
    """The simulator's Runtime API with the event queued before the runtime starts."""
    from otel_lambda_sim.function import FunctionConfig
    from otel_lambda_sim.runtime_api import RuntimeApi

    with RuntimeApi(FunctionConfig("unused.handler")) as api:
        api.mark_init_start()
        inv = api.enqueue({})
        env = {**os.environ, "AWS_LAMBDA_RUNTIME_API": api.address}
        proc = subprocess.Popen([sys.executable, str(HERE), "--runtime"], env=env)
        try:
            result = inv.wait(30)
            payload = result.payload
            if isinstance(payload, (bytes, str)):
                payload = json.loads(payload)
            return float(payload["handover_ms"])
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@contextmanager
def busy_cores(n: int) -> Iterator[None]:
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(n, 0))
    ]
    try:
        yield
    finally:
        for proc in spinners:
            proc.kill()
            proc.wait()


def summary(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return (
        f"median {statistics.median(values):6.2f}  p90 {p90:6.2f}  max {max(values):6.2f} ms"
        f"  (n={len(values)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--busy", type=int, default=2, help="spinning processes when busy")
    parser.add_argument("--runtime", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runtime:
        runtime_main()
        return 0
    rie_bin = os.environ.get("RIE_BIN")
    targets: list[tuple[str, Callable[[], float]]] = [("simulator", sim_once)]
    if rie_bin:
        targets.insert(0, ("RIE", lambda: rie_once(rie_bin)))
    else:
        print("RIE_BIN not set: simulator only")
    for load, spinners in (("idle", 0), (f"{args.busy} cores busy", args.busy)):
        with busy_cores(spinners):
            for name, once in targets:
                values = [once() for _ in range(args.runs)]
                print(f"{name:<10} {load:<14} hand-over {summary(values)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
