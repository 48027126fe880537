"""Caller-visible latency per warm invocation: after-response vs sync flush vs no
instrumentation, through real awslambdaric sandboxes exporting to a local OTLP/HTTP receiver.

Caller-visible = from the moment the simulator accepts the request to the runtime posting the
response (what the caller waits for); complete = until the runtime asked for its next event
and every INVOKE extension called ``next`` (what Lambda bills, and when the sandbox can take
the next request). The mean column matters for the export cadence: one invocation in ten
exports. The receiver runs in
a process of its own, as a collector does in Lambda. All sandboxes run side
by side; invocations alternate between them, one round every 100 ms, so each sandbox serves
about 10 requests a second (the rate the export cadence row is about).

    python benchmarks/bench_latency.py [--quick] [--rounds N] [--collector] [--pin]

``--pin`` keeps the sandboxes on one CPU and the simulator and receiver on the other: on
two cores, an export right after the response otherwise competes with the simulator's own
handling of that response (Python, where Lambda's is Go), which sync's export before the
response does not.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from statistics import mean

from _bench import (
    CollectorProcess,
    ReceiverProcess,
    alternate,
    fmt,
    machine_line,
    median,
    otlp_env,
    parse_args,
    pin_harness,
    pin_sandboxes,
    print_table,
    ratio,
    write_figures,
)
from bench_init import HANDLERS, UPSTREAM_LAYER, wrapper_path

from otel_lambda_sim.sandbox import Sandbox

SPAN_FLOOR = "floor: one SDK span in the handler, no package"
SETUPS: list[tuple[str, str, dict[str, str], list]] = [
    ("no instrumentation", "app.handler", {}, []),
    (SPAN_FLOOR, "span_app.handler", {}, []),
    ("ours, after-response (manual route)", "manual_app.handler", {}, []),
    (
        "ours, after-response, lazy exporter",
        "manual_lazy_app.handler",
        {},
        [],
    ),
    (
        "ours, sync flush (manual route)",
        "manual_app.handler",
        {"OTEL_LAMBDA_INIT_FLUSH": "sync"},
        [],
    ),
]


SYNC = {"OTEL_LAMBDA_INIT_FLUSH": "sync"}
CADENCE = {"OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS": "1000", "OTEL_BSP_SCHEDULE_DELAY": "5000"}
CADENCE_ROW = "ours, after-response, export every 1000 ms (wrapper route)"
CADENCE_5S = {"OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS": "5000"}
CADENCE_5S_ROW = "ours, after-response, export every 5000 ms (wrapper route)"
"""5000 ms is the SDK's own default batch delay (OTEL_BSP_SCHEDULE_DELAY)."""
ROUND_S = 0.1
"""One round (one invocation of every sandbox) starts every 100 ms: ~10 requests a second."""


def setups() -> list[tuple[str, str, dict[str, str], list]]:
    found = list(SETUPS)
    wrapper = wrapper_path()
    if wrapper:
        route = {"AWS_LAMBDA_EXEC_WRAPPER": wrapper}
        found += [
            ("ours, after-response (wrapper route)", "app.handler", route, []),
            ("ours, sync flush (wrapper route)", "app.handler", {**route, **SYNC}, []),
            (CADENCE_ROW, "app.handler", {**route, **CADENCE}, []),
            (CADENCE_5S_ROW, "app.handler", {**route, **CADENCE_5S}, []),
        ]
    found.append(
        (
            "upstream opentelemetry-instrument",
            "app.handler",
            {"AWS_LAMBDA_EXEC_WRAPPER": str(UPSTREAM_LAYER / "bin" / "otel-instrument")},
            [UPSTREAM_LAYER],
        )
    )
    return found


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], default_rounds=150, quick_rounds=3)
    print(f"Caller-visible latency benchmark: {args.rounds} rounds, {machine_line()}")
    sandbox_cpus = pin_harness() if args.pin else None
    if args.pin:
        print(
            f"Pinned: sandboxes on CPU {sandbox_cpus}, the rest elsewhere"
            if sandbox_cpus
            else "Pinned: not possible here (one CPU); not pinned"
        )
    t0 = time.monotonic()
    completed: dict[str, list[float]] = {}
    collector = os.environ.get("OTELCOL_BIN") if args.collector else None
    if args.collector and not collector:
        raise SystemExit("--collector needs OTELCOL_BIN (scripts/components.sh builds it)")
    print(
        f"Receiver: {'the Collector at ' + str(collector) if collector else 'Python (own process)'}"
    )
    with CollectorProcess(collector) if collector else ReceiverProcess() as receiver:
        base_env = otlp_env(receiver.endpoint)
        sandboxes: list[tuple[str, Sandbox]] = []
        try:
            for name, handler, env, layers in setups():
                sandbox = Sandbox(
                    handler,
                    HANDLERS,
                    env={**base_env, **env},
                    layer_dirs=layers,
                    function_name="bench-fn",
                )
                sandboxes.append((name, sandbox))
                sandbox.start()
            for name, sandbox in sandboxes:
                if not sandbox.wait_init(30).ok:
                    raise RuntimeError(f"{name}: INIT failed\n{sandbox.logs()[-3000:]}")
                for _ in range(2):  # the cold invocation and one more, off the clock
                    sandbox.invoke({"n": 0}, timeout=30)
                completed[name] = []
            if sandbox_cpus:
                pids = [s.pid for _, s in sandboxes if s.pid is not None]
                print(f"Pinned {pin_sandboxes(pids, sandbox_cpus)} sandbox threads")

            last_start: dict[str, float] = {}

            def run(name: str, sandbox: Sandbox) -> Callable[[], float | None]:
                def once() -> float | None:
                    # Each sandbox gets a request at most every ROUND_S: ~10 requests/s.
                    wait = last_start.get(name, 0.0) + ROUND_S - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    last_start[name] = time.monotonic()
                    result = sandbox.invoke({"n": 1}, timeout=30)
                    if result.status != "success":
                        raise RuntimeError(f"{name}: {result.payload}")
                    completed[name].append((result.completed_ns - result.start_ns) / 1e6)
                    return result.duration_ms

                return once

            results = alternate([(n, run(n, s)) for n, s in sandboxes], args.rounds)
        finally:
            for _, sandbox in sandboxes:
                sandbox.kill()
    base = median(results["no instrumentation"])
    rows = []
    for name, _ in sandboxes:
        m = median(results[name])
        rows.append(
            [
                name,
                fmt(m, 2),
                fmt(m - base, 2) if name != "no instrumentation" else "-",
                ratio(m, base),
                fmt(median(completed[name]), 2),
                fmt(median(completed[name]) - median(completed["no instrumentation"]), 2)
                if name != "no instrumentation"
                else "-",
                fmt(mean(completed[name]) - mean(completed["no instrumentation"]), 2)
                if name != "no instrumentation"
                else "-",
            ]
        )
    print_table(
        f"Warm invocation, local receiver ({args.rounds} invocations each; ms, medians)",
        [
            "setup",
            "caller-visible",
            "added over none",
            "vs none",
            "sandbox busy (until every next)",
            "busy added over none",
            "busy added, mean",
        ],
        rows,
    )
    spans = receiver.span_count
    write_figures(
        args.json,
        {
            name: {
                "caller_ms": median(results[name]),
                "complete_ms": median(completed[name]),
                "complete_mean_ms": mean(completed[name]),
            }
            for name, _ in sandboxes
        },
    )
    print(f"\n{spans} spans reached the receiver ({time.monotonic() - t0:.0f} s)")
    return 0 if spans else 1


if __name__ == "__main__":
    sys.exit(main())
