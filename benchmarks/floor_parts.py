"""What the realistic function's floor is made of: CPU time of each piece that any route
exporting its client spans imports (the API, the instrumentors and what they import, the SDK,
the OTLP exporter), imported in order in a fresh process after the function's own ``boto3``
and ``requests``; medians of fresh processes (docs/performance.md, "Toward the floor").

    python benchmarks/floor_parts.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

STEPS = [
    (
        "the API (opentelemetry.trace, context, propagators)",
        ["opentelemetry.trace", "opentelemetry.propagate"],
    ),
    (
        "packaging (opentelemetry.instrumentation.dependencies)",
        ["packaging.requirements", "packaging.specifiers"],
    ),
    ("wrapt (2.x imports asyncio)", ["wrapt"]),
    (
        "instrumentation base (instrumentor, utils, _semconv)",
        [
            "opentelemetry.instrumentation.instrumentor",
            "opentelemetry.instrumentation.utils",
            "opentelemetry.instrumentation._semconv",
        ],
    ),
    (
        "botocore instrumentor (its extensions: _logs, metrics API)",
        ["opentelemetry.instrumentation.botocore"],
    ),
    ("requests instrumentor", ["opentelemetry.instrumentation.requests"]),
    ("urllib3 instrumentor", ["opentelemetry.instrumentation.urllib3"]),
    (
        "SDK tracing (resources, metrics API, util)",
        ["opentelemetry.sdk.trace", "opentelemetry.sdk.trace.export"],
    ),
    (
        "protobuf runtime + OTLP *_pb2 modules",
        [
            "google.protobuf",
            "opentelemetry.proto.trace.v1.trace_pb2",
            "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
        ],
    ),
    (
        "OTLP encoder + HTTP exporter",
        [
            "opentelemetry.exporter.otlp.proto.common.trace_encoder",
            "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        ],
    ),
]
INSTRUMENT = "instrument() x3 (version checks, patching)"

CHILD = """
import importlib, json, sys, time
import boto3, requests  # the function's own
steps = json.loads(sys.argv[1])
out = {}
for name, modules in steps:
    t0 = time.process_time()
    for module in modules:
        importlib.import_module(module)
    out[name] = (time.process_time() - t0) * 1e3
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
t0 = time.process_time()
for cls in (BotocoreInstrumentor, RequestsInstrumentor, URLLib3Instrumentor):
    cls().instrument()
out[sys.argv[2]] = (time.process_time() - t0) * 1e3
print(json.dumps(out))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(STEPS), INSTRUMENT],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout))
    total = 0.0
    print(f"| piece | CPU ms (median of {args.runs}) |\n|---|---|")
    for name in runs[0]:
        value = statistics.median(r[name] for r in runs)
        total += value
        print(f"| {name} | {value:.1f} |")
    print(f"| sum | {total:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
