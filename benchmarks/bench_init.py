"""INIT cost and peak memory of each way in, through real awslambdaric sandboxes.

INIT = from the moment the simulator starts the runtime process (just before Popen of the
managed runtime's bootstrap script) to the runtime's first ``next``, as the simulator's
Runtime API records it. Each round starts one sandbox per route, in turn, invokes it (one
cold, three warm invocations), checks that its spans reached the local OTLP/HTTP receiver and
reads the runtime process's peak RSS (VmHWM) before killing it.

The first invocation is followed at once by a second request, sent as soon as the first
response is posted: with the wrapper route's deferred INIT the spans are built in the first
invocation's after-response window, so that second request is where the moved cost lands.

datadog-lambda (PyPI ``datadog-lambda``, with ``ddtrace``) runs as its handler route
(``_HANDLER=datadog_lambda.handler.handler``, ``DD_LAMBDA_HANDLER``): the library alone,
since its extension is not installable here, so nothing reaches a Datadog agent (its
"failed to send" lines are expected) and its exports are not checked.

    python benchmarks/bench_init.py [--quick] [--rounds N]
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _bench import (
    HERE,
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

from otel_lambda_sim.receiver import OtlpReceiver
from otel_lambda_sim.sandbox import Sandbox

HANDLERS = HERE / "handlers"
UPSTREAM_LAYER = HERE / "upstream_layer"
WARM_INVOCATIONS = 3


@dataclass
class Route(ColdStartRoute):
    second_ms: list[float] = field(default_factory=list)


def wrapper_path() -> str | None:
    """Our exec wrapper, once the wrapper route is installed (issue 4)."""
    beside = Path(sys.executable).parent / "otel-lambda-init-wrapper"
    if beside.exists():
        return str(beside)
    return shutil.which("otel-lambda-init-wrapper")


def routes() -> list[Route]:
    found = [
        Route("bare handler", "app.handler", exports=False),
        Route("manual route (eager OTLP/HTTP)", "manual_app.handler"),
        Route("manual route (lazy exporter)", "manual_lazy_app.handler"),
    ]
    wrapper = wrapper_path()
    if wrapper:
        # The wrapper builds its exporter lazily in after-response mode (the default here).
        found.append(Route("wrapper route", "app.handler", {"AWS_LAMBDA_EXEC_WRAPPER": wrapper}))
    if datadog_available():
        found.append(
            Route(
                "datadog-lambda (library, no extension)",
                "datadog_lambda.handler.handler",
                {"DD_LAMBDA_HANDLER": "app.handler", "DD_TRACE_ENABLED": "true"},
                exports=False,
            )
        )
    found.append(
        Route(
            "upstream opentelemetry-instrument",
            "app.handler",
            {"AWS_LAMBDA_EXEC_WRAPPER": str(UPSTREAM_LAYER / "bin" / "otel-instrument")},
            [UPSTREAM_LAYER],
        )
    )
    return found


def datadog_available() -> bool:
    """datadog-lambda is a benchmark-only install (``pip install datadog-lambda``)."""
    import importlib.util

    return importlib.util.find_spec("datadog_lambda") is not None


def peak_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def run_once(route: Route, receiver: OtlpReceiver) -> Callable[[], float | None]:
    env = {**otlp_env(receiver.endpoint), **route.env}

    def run() -> float | None:
        before = len(receiver.spans())
        sandbox = Sandbox(
            route.handler, HANDLERS, env=env, layer_dirs=route.layer_dirs, function_name="bench-fn"
        )
        try:
            init_ms = cold_start(sandbox, route.failures, 30)
            if init_ms is None:
                return None
            pending = sandbox.submit({"n": 0})
            if not pending.wait_response(30):
                route.failures.append("first invocation: no response")
                return None
            second_pending = sandbox.submit({"n": 1})  # arrives while the first completes
            first = pending.wait(30)
            second = second_pending.wait(30)
            for n in range(WARM_INVOCATIONS - 1):
                sandbox.invoke({"n": n + 2}, timeout=30)
            if first.status != "success":
                route.failures.append(f"first invocation {first.status}: {first.payload}")
                return None
            if route.exports:
                try:
                    receiver.wait_for(lambda spans: len(spans) > before, timeout=10)
                except TimeoutError:
                    route.failures.append("no span reached the receiver")
                    return None
            rss = peak_rss_mb(sandbox.pid)
        finally:
            logs = sandbox.logs()
            sandbox.kill()
        check_logs(logs, route.failures)
        route.init_ms.append(init_ms)
        route.first_ms.append(first.duration_ms)
        route.first_done_ms.append((first.completed_ns - first.start_ns) / 1e6)
        route.second_ms.append(second.duration_ms)
        if rss is not None:
            route.rss_mb.append(rss)
        return init_ms

    return run


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], default_rounds=11)
    all_routes = routes()
    print(f"INIT benchmark: {args.rounds} rounds, {machine_line()}")
    if wrapper_path() is None:
        print("(no otel-lambda-init-wrapper on PATH yet: the wrapper route row is left out)")
    t0 = time.monotonic()
    with OtlpReceiver() as receiver:
        # One unmeasured sandbox per route first: compiles .pyc files, warms the page cache.
        for route in all_routes:
            run_once(route, receiver)()
            route.init_ms.clear(), route.first_ms.clear(), route.first_done_ms.clear()
            route.second_ms.clear(), route.rss_mb.clear()
        alternate([(r.name, run_once(r, receiver)) for r in all_routes], args.rounds)
    bare = all_routes[0]
    upstream = all_routes[-1]
    base_init = median(bare.init_ms)
    up_added = median(upstream.init_ms) - base_init
    rows = []
    for r in all_routes:
        init = median(r.init_ms)
        added = init - base_init
        rows.append(
            [
                r.name,
                str(len(r.init_ms)),
                fmt(init),
                fmt(added) if r is not bare else "-",
                ratio(added, up_added) if r is not bare else "-",
                fmt(median(r.first_ms)),
                fmt(median(r.first_done_ms)),
                fmt(median(r.second_ms)),
            ]
        )
    print_table(
        "INIT, process start to the runtime's first next (ms, medians)",
        [
            "route",
            "runs",
            "INIT",
            "added over bare",
            "added / upstream's added",
            "1st invocation, caller",
            "1st invocation, complete",
            "2nd request, caller",
        ],
        rows,
    )
    base_rss = median(bare.rss_mb)
    print_table(
        "Peak RSS of the runtime process (VmHWM after 1 cold + 3 warm invocations, MB, medians)",
        ["route", "peak RSS", "added over bare"],
        [
            [
                r.name,
                fmt(median(r.rss_mb)),
                fmt(median(r.rss_mb) - base_rss) if r is not bare else "-",
            ]
            for r in all_routes
        ],
    )
    write_figures(
        args.json,
        {
            r.name: {
                "init_ms": median(r.init_ms),
                "added_ms": median(r.init_ms) - base_init,
                "first_ms": median(r.first_ms),
                "first_done_ms": median(r.first_done_ms),
                "second_ms": median(r.second_ms),
                "rss_mb": median(r.rss_mb),
            }
            for r in all_routes
        },
    )
    failed = [r for r in all_routes if r.failures]
    for r in failed:
        print(f"\n{r.name}: {len(r.failures)} failed run(s); first: {r.failures[0]}")
    print(f"\n({time.monotonic() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
