"""A real function's cold start: boto3 and requests, their instrumentors, real awslambdaric.

The function (``handlers/realistic_app.py``) creates an S3 client and a requests session at
INIT and calls both on every invocation, against a stub server on 127.0.0.1
(``stub_server.py``). Installed: ``opentelemetry-instrumentation-aws-lambda``, ``-botocore``,
``-requests`` and ``-urllib3`` (``pip install -e '.[bench]'``). Routes, alternated in rounds:

- bare: no instrumentation;
- ours, zero-code: the exec wrapper, ``OTEL_LAMBDA_INIT_INSTRUMENTORS=botocore,requests,urllib3``;
  and without it (the wrapper's default: our spans only, no client spans);
- upstream, zero-code: ``opentelemetry-instrument`` as the opentelemetry-lambda layer runs it
  (every installed instrumentor; our package is installed here too, so it is switched off on
  this route with ``OTEL_LAMBDA_INIT_DISABLED=true`` and ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``);
- ours, manual: the user's own SDK setup and instrumentors in the module, our decorator;
- the floor (not a route): the SDK, the exporter and the three instrumentors set up in the
  module with nothing of ours and no invocation span, flushed before returning: what any
  route that exports these client spans pays;
- datadog-lambda as a library (its handler route, ``DD_TRACE_ENABLED``), where it installs.

For each sandbox: INIT (process start to the runtime's first ``next``), the first invocation
as the caller sees it and until the runtime asks for its next event, and the runtime
process's peak RSS after one cold and three warm invocations, and its CPU time at the end
of the first invocation (INIT included; on a loaded host the figure preemption does not
inflate: the clock figures carry the host's load). On the OpenTelemetry routes a
round only counts when the first invocation's ``S3.GetObject`` and ``GET`` client spans
reached the receiver in the invocation span's trace.

    python benchmarks/bench_realistic.py [--quick] [--rounds N] [--json FILE]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _bench import (
    ColdStartRoute,
    alternate,
    check_logs,
    cold_start,
    fmt,
    machine_line,
    median,
    otlp_env,
    parse_args,
    print_table,
    ratio,
    write_figures,
)
from bench_init import HANDLERS, UPSTREAM_LAYER, datadog_available, peak_rss_mb, wrapper_path
from stub_server import StubServer

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan
from otel_lambda_sim.sandbox import Sandbox

WARM_INVOCATIONS = 3
INSTRUMENTORS = "botocore,requests,urllib3"
CLIENT_SPANS = {"S3.GetObject", "GET"}

BARE = "bare function"
OURS = "ours, zero-code (exec wrapper)"
OURS_PLAIN = "ours, zero-code, no instrumentors (no client spans)"
UPSTREAM = "upstream opentelemetry-instrument"
MANUAL = "ours, manual (user's SDK setup)"
FLOOR = "floor: SDK, exporter, 3 instrumentors, no package (not a route)"
DATADOG = "datadog-lambda (library, no extension)"


@dataclass
class Route(ColdStartRoute):
    cpu_ms: list[float] = field(default_factory=list)

    def clear(self) -> None:
        for values in (self.init_ms, self.first_ms, self.first_done_ms, self.rss_mb, self.cpu_ms):
            values.clear()


def routes() -> list[Route]:
    found = [Route(BARE, "realistic_app.handler", exports=False)]
    wrapper = wrapper_path()
    if wrapper:
        found.append(
            Route(
                OURS,
                "realistic_app.handler",
                {
                    "AWS_LAMBDA_EXEC_WRAPPER": wrapper,
                    "OTEL_LAMBDA_INIT_INSTRUMENTORS": INSTRUMENTORS,
                },
            )
        )
        found.append(
            Route(OURS_PLAIN, "realistic_app.handler", {"AWS_LAMBDA_EXEC_WRAPPER": wrapper})
        )
    found.append(
        Route(
            UPSTREAM,
            "realistic_app.handler",
            {
                "AWS_LAMBDA_EXEC_WRAPPER": str(UPSTREAM_LAYER / "bin" / "otel-instrument"),
                "OTEL_LAMBDA_INIT_DISABLED": "true",
                "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "otel_lambda_init",
            },
            [UPSTREAM_LAYER],
        )
    )
    found.append(Route(MANUAL, "realistic_manual_app.handler"))
    found.append(Route(FLOOR, "realistic_floor_app.handler"))
    if datadog_available():
        found.append(
            Route(
                DATADOG,
                "datadog_lambda.handler.handler",
                {"DD_LAMBDA_HANDLER": "realistic_app.handler", "DD_TRACE_ENABLED": "true"},
                exports=False,
            )
        )
    return found


def client_spans_in_invocation_trace(spans: list[ReceivedSpan], server: bool = True) -> bool:
    """The first invocation's client spans arrived, in a trace that has a SERVER span (with
    ``server``; the floor has no invocation span: its client spans are roots)."""
    traces = {s.trace_id for s in spans if s.kind == "SERVER"}
    names = {s.name for s in spans if s.kind == "CLIENT" and (s.trace_id in traces or not server)}
    return names >= CLIENT_SPANS


def run_once(
    route: Route, receiver: OtlpReceiver, env: dict[str, str]
) -> Callable[[], float | None]:
    def run() -> float | None:
        before = len(receiver.spans())
        sandbox = Sandbox(
            route.handler, HANDLERS, env=env, layer_dirs=route.layer_dirs, function_name="bench-fn"
        )
        try:
            init_ms = cold_start(sandbox, route.failures, 60)
            if init_ms is None:
                return None
            first = sandbox.invoke({"n": 0}, timeout=60)
            cpu = cpu_ms(sandbox.pid)  # the runtime has asked for its next event
            for n in range(WARM_INVOCATIONS):
                sandbox.invoke({"n": n + 1}, timeout=60)
            if first.status != "success":
                route.failures.append(f"first invocation {first.status}: {first.payload}")
                return None
            if route.exports:
                arrived = (
                    (lambda spans: len(spans) > before)
                    if route.name == OURS_PLAIN
                    else (
                        lambda spans: client_spans_in_invocation_trace(
                            spans[before:], server=route.name != FLOOR
                        )
                    )
                )
                try:
                    receiver.wait_for(arrived, timeout=20)
                except TimeoutError:
                    route.failures.append("the client spans did not reach the receiver")
                    return None
            rss = peak_rss_mb(sandbox.pid)
        finally:
            logs = sandbox.logs()
            sandbox.kill()
        check_logs(logs, route.failures)
        route.init_ms.append(init_ms)
        route.first_ms.append(first.duration_ms)
        route.first_done_ms.append((first.completed_ns - first.start_ns) / 1e6)
        if rss is not None:
            route.rss_mb.append(rss)
        if cpu is not None:
            route.cpu_ms.append(cpu)
        return init_ms

    return run


def cpu_ms(pid: int | None) -> float | None:
    """CPU time the runtime process's threads have used so far, in ms (the scheduler's ns
    counters; a thread that already exited is not counted): on a loaded host the figure
    that preemption does not inflate."""
    if pid is None:
        return None
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e6


def figures(route: Route) -> dict[str, float]:
    init, first, done = median(route.init_ms), median(route.first_ms), median(route.first_done_ms)
    return {
        "init_ms": init,
        "first_ms": first,
        "first_done_ms": done,
        "caller_ms": init + first,  # the request waited for INIT, then for its response
        "sandbox_ms": init + done,  # INIT, then the first invocation until the next `next`
        "rss_mb": median(route.rss_mb),
        "cpu_ms": median(route.cpu_ms),
    }


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], default_rounds=11)
    all_routes = routes()
    print(f"realistic function: {args.rounds} rounds, {machine_line()}")
    t0 = time.monotonic()
    with StubServer() as stub, OtlpReceiver() as receiver:
        runs = []
        for route in all_routes:
            env = {**otlp_env(receiver.endpoint), **stub.env, **route.env}
            runs.append((route.name, run_once(route, receiver, env)))
        for (_, run), route in zip(
            runs, all_routes, strict=True
        ):  # unmeasured: .pyc files, page cache
            run()
            route.clear()
        alternate(runs, args.rounds)
    results = {r.name: figures(r) for r in all_routes}
    base = results[BARE]
    up = results.get(UPSTREAM)
    columns = [
        ("caller_ms", "caller-visible cold start"),
        ("init_ms", "INIT"),
        ("first_done_ms", "1st invocation until next"),
        ("sandbox_ms", "sandbox time of the cold start"),
        ("cpu_ms", "CPU time of the cold start"),
        ("rss_mb", "peak RSS (MB)"),
    ]
    rows = []
    for r in all_routes:
        f = results[r.name]
        row = [r.name, str(len(r.init_ms))]
        for key, _ in columns:
            added = f[key] - base[key]
            if r.name == BARE:
                row.append(fmt(f[key]))
            elif up is None or r.name == UPSTREAM:
                row.append(f"{added:+.1f}")
            else:
                row.append(f"{added:+.1f} ({ratio(added, up[key] - base[key])})")
        rows.append(row)
    print_table(
        "Cold start of the realistic function: bare figures, then added over bare "
        "(ms unless said; medians; in brackets: added / upstream's added)",
        ["route", "runs", *(title for _, title in columns)],
        rows,
    )
    write_figures(args.json, results)
    failed = [r for r in all_routes if r.failures]
    for r in failed:
        print(f"\n{r.name}: {len(r.failures)} failed run(s); first: {r.failures[0]}")
    print(f"\n({time.monotonic() - t0:.0f} s; {machine_line()} at the end)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
