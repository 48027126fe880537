"""Import cost: our package over the OpenTelemetry API, the SDK, and each exporter option.

Each variant is a fresh ``python -c`` process timed from start to exit (whole process), run
in alternating rounds; ``pass`` is the baseline. Our own import is also timed inside the
process, after ``opentelemetry.trace`` is loaded (the figure the goal is about). Exporters
that are not installed are listed as such (``pip install`` the package named to add them).
The last table is ``python -X importtime`` for the wrapper route's imports: the modules with
the most time of their own.

    python benchmarks/bench_import.py [--quick] [--rounds N]
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

from _bench import PYTHON, alternate, fmt, machine_line, median, parse_args, print_table, ratio

SDK = "import opentelemetry.sdk.trace, opentelemetry.sdk.trace.export"
EXPORTERS = [
    # (label, module, distribution to install)
    (
        "OTLP/HTTP protobuf (SDK's)",
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "opentelemetry-exporter-otlp-proto-http",
    ),
    (
        "OTLP/HTTP JSON",
        "opentelemetry.exporter.otlp.json.http.trace_exporter",
        "opentelemetry-exporter-otlp-json-http",
    ),
    (
        "OTLP/gRPC",
        "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
        "opentelemetry-exporter-otlp-proto-grpc",
    ),
]
OURS = "from otel_lambda_init import instrument_handler"

OUR_IMPORT_IN_PROCESS = (
    "import time, opentelemetry.trace\n"
    "t = time.perf_counter_ns()\n"
    "from otel_lambda_init import instrument_handler\n"
    "print((time.perf_counter_ns() - t) / 1e6)"
)


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def whole_process(code: str) -> float:
    t0 = time.perf_counter_ns()
    subprocess.run([PYTHON, "-c", code], check=True)
    return (time.perf_counter_ns() - t0) / 1e6


def in_process(code: str) -> float:
    out = subprocess.run([PYTHON, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def importtime_in_sandbox() -> tuple[str, list[tuple[str, int, int]]]:
    """``-X importtime`` of a real INIT (awslambdaric in a simulated sandbox) on the wrapper
    route, or on the manual route until the wrapper is installed:
    (route, [(module, self us, cumulative us)])."""
    from bench_init import HANDLERS, wrapper_path

    from otel_lambda_sim.sandbox import Sandbox

    env = {
        "PYTHONPROFILEIMPORTTIME": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # never reached: no span exported
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    wrapper = wrapper_path()
    if wrapper:
        route, handler = "wrapper route", "app.handler"
        env["AWS_LAMBDA_EXEC_WRAPPER"] = wrapper
    else:
        route, handler = "manual route", "manual_app.handler"
    sandbox = Sandbox(handler, HANDLERS, env=env, function_name="bench-fn")
    try:
        sandbox.start()
        if not sandbox.wait_init(30).ok:
            raise RuntimeError(f"INIT failed:\n{sandbox.logs()[-3000:]}")
    finally:
        sandbox.kill()
    rows = []
    for line in sandbox.logs().splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = (p.strip() for p in line[len("import time:") :].split("|"))
        rows.append((name, int(own), int(cumulative)))
    rows.sort(key=lambda r: -r[1])
    return route, rows


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], default_rounds=15, quick_rounds=2)
    print(f"Import benchmark: {args.rounds} rounds, {machine_line()}")
    variants: list[tuple[str, str]] = [
        ("python -c pass", "pass"),
        ("import opentelemetry.trace", "import opentelemetry.trace"),
        (OURS, OURS),
        ("+ SDK (TracerProvider, BatchSpanProcessor)", OURS + "; " + SDK),
        (
            "+ SDK + LazySpanExporter (exporter deferred)",
            OURS + "; " + SDK + "; import otel_lambda_init._sdk.lazy_exporter",
        ),
    ]
    missing = []
    for label, module, dist in EXPORTERS:
        if installed(module):
            variants.append((f"+ SDK + {label}", f"{OURS}; {SDK}; import {module}"))
        else:
            missing.append(f"{label}: not installed (pip install {dist})")
    for _, code in variants:  # compile .pyc files before measuring
        whole_process(code)
    timed = [(label, (lambda c=code: whole_process(c))) for label, code in variants]
    timed.append(("(in process) ours after otel.trace", lambda: in_process(OUR_IMPORT_IN_PROCESS)))
    results = alternate(timed, args.rounds)
    base = median(results["python -c pass"])
    api = median(results["import opentelemetry.trace"])
    sdk = median(results["+ SDK (TracerProvider, BatchSpanProcessor)"])
    rows = []
    for label, _ in variants:
        m = median(results[label])
        rows.append([label, fmt(m), fmt(m - base), fmt(m - api), fmt(m - sdk), ratio(m, base)])
    print_table(
        "Whole process, start to exit (ms, medians)",
        ["variant", "ms", "over pass", "over otel.trace", "over SDK", "vs pass"],
        rows,
    )
    ours = median(results["(in process) ours after otel.trace"])
    print(
        f"\n`{OURS}` measured inside the process after `import "
        f"opentelemetry.trace`: {fmt(ours, 2)} ms (median of {args.rounds}; goal <= 5 ms)"
    )
    for line in missing:
        print(line)
    route, offenders = importtime_in_sandbox()
    print_table(
        f"python -X importtime of a real INIT on the {route}: top offenders (self time)",
        ["module", "self ms", "cumulative ms"],
        [[n, fmt(own / 1000, 2), fmt(cum / 1000, 2)] for n, own, cum in offenders[:15]],
    )
    ours_only = [r for r in offenders if r[0].strip().startswith("otel_lambda_init")]
    total_ours = sum(own for _, own, _ in ours_only) / 1000
    print_table(
        f"our own modules in that INIT (self time; all {len(ours_only)} add up to "
        f"{fmt(total_ours, 2)} ms)",
        ["module", "self ms", "cumulative ms"],
        [[n.strip(), fmt(own / 1000, 2), fmt(cum / 1000, 2)] for n, own, cum in ours_only[:10]],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
