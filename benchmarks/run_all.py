"""Every headline figure in one run: INIT, caller-visible and sandbox-busy time per warm
invocation, and the in-process hot path, for ours beside upstream OpenTelemetry, Datadog's
library and the bare function, as ratios. The README's performance table is this output.

Runs bench_init.py, bench_realistic.py, bench_latency.py, bench_warm.py, hot_path_profile.py
and bench_lwa.py
(each alternates its variants in rounds against baselines of the same run), prints their
tables, then one summary table.

    python benchmarks/run_all.py [--quick] [--collector] [--pin]

``--collector`` and ``--pin`` are passed to bench_latency.py (see there).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _bench import HERE, PYTHON, fmt, machine_line, parse_args, print_table

WRAPPER = "wrapper route"
UPSTREAM = "upstream opentelemetry-instrument"
DATADOG = "datadog-lambda (library, no extension)"
BARE = "bare handler"
NONE = "no instrumentation"
SPAN_FLOOR = "floor: one SDK span in the handler, no package"
OURS_AR = "ours, after-response (wrapper route)"
OURS_SYNC = "ours, sync flush (wrapper route)"
MANUAL_AR = "ours, after-response (manual route)"
MANUAL_SYNC = "ours, sync flush (manual route)"
OURS_CADENCE = "ours, after-response, export every 1000 ms (wrapper route)"
OURS_CADENCE_5S = "ours, after-response, export every 5000 ms (wrapper route)"
WARM_OURS = "ours, after-response (hot path)"
WARM_SPAN = "one SDK span"
WARM_SPAN_ATTRS = "one SDK span, our 9 attributes"
WARM_UPSTREAM = "upstream aws-lambda instrumentor"
REAL_BARE = "bare function"
REAL_OURS = "ours, zero-code (exec wrapper)"
REAL_UPSTREAM = "upstream opentelemetry-instrument"
REAL_MANUAL = "ours, manual (user's SDK setup)"
REAL_DATADOG = "datadog-lambda (library, no extension)"
REAL_FLOOR = "floor: SDK, exporter, 3 instrumentors, no package (not a route)"
LWA_OURS = "FastAPI + ours, after-response"
LWA_NONE = "FastAPI, no instrumentation"


def run(script: str, rounds: int | None, quick: bool, out: Path, *flags: str) -> dict[str, Any]:
    cmd = [PYTHON, str(HERE / script), "--json", str(out), *flags]
    if quick:
        cmd.append("--quick")
    elif rounds:
        cmd += ["--rounds", str(rounds)]
    done = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=3600)
    print(done.stdout, end="")
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{script} failed ({done.returncode})")
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def value(data: dict[str, Any], row: str, col: str) -> float:
    found = data["rows"].get(row, {}).get(col)
    return float("nan") if found is None else float(found)


def ratio(a: float, b: float) -> str:
    if a != a or b != b or b <= 0.05:
        return "n/a"  # no baseline to divide by (a difference of ~0 or below)
    return f"{a / b:.2f}x"


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], default_rounds=0, quick_rounds=0)
    t0 = time.monotonic()
    print(f"run_all: {machine_line()}")
    with tempfile.TemporaryDirectory() as tmp:
        init = run("bench_init.py", None, args.quick, Path(tmp) / "init.json")
        real = run("bench_realistic.py", None, args.quick, Path(tmp) / "realistic.json")
        flags = [f for f, on in (("--collector", args.collector), ("--pin", args.pin)) if on]
        latency = run("bench_latency.py", None, args.quick, Path(tmp) / "latency.json", *flags)
        warm = run("bench_warm.py", None, args.quick, Path(tmp) / "warm.json")
        run("hot_path_profile.py", None, args.quick, Path(tmp) / "profile.json")
        lwa = run("bench_lwa.py", None, args.quick, Path(tmp) / "lwa.json")
    loads = ", ".join(f"{d['load']:.2f}" for d in (init, real, latency, warm))

    def init_added(route: str, col: str = "added_ms") -> float:
        if col == "added_ms":
            return value(init, route, col)
        return value(init, route, col) - value(init, BARE, col)

    def real_added(route: str, col: str) -> float:
        return value(real, route, col) - value(real, REAL_BARE, col)

    def realistic(what: str, col: str, ours: str = REAL_OURS) -> tuple[Any, ...]:
        return (
            f"realistic function (boto3 + requests, their instrumentors): {what}",
            real_added(ours, col),
            real_added(REAL_UPSTREAM, col),
            real_added(REAL_DATADOG, col),
            value(real, REAL_BARE, col),
            "bare",
        )

    def lat_added(row: str, col: str) -> float:
        return value(latency, row, col) - value(latency, NONE, col)

    def warm_added(row: str) -> float:
        return value(warm, row, "us") - value(warm, "bare function", "us")

    nan = float("nan")
    # (what, ours, upstream, datadog, baseline, baseline's name)
    table: list[tuple[str, float, float, float, float, str]] = [
        (
            "web app behind the Lambda Web Adapter, caller-visible per warm request, added "
            "(ms; RIE's runtime-done time, what Lambda's caller waits for)",
            value(lwa, LWA_OURS, "posted_ms") - value(lwa, LWA_NONE, "posted_ms"),
            nan,
            nan,
            value(lwa, LWA_NONE, "posted_ms"),
            "FastAPI, bare",
        ),
        realistic("caller-visible cold start added, zero-code (ms)", "caller_ms"),
        realistic("INIT added, zero-code (ms)", "init_ms"),
        realistic("1st invocation until next, added, zero-code (ms)", "first_done_ms"),
        realistic("sandbox time of the cold start added, zero-code (ms)", "sandbox_ms"),
        realistic("CPU time of the cold start added, zero-code (ms; load-proof)", "cpu_ms"),
        realistic("peak RSS added, zero-code (MB)", "rss_mb"),
        realistic("caller-visible cold start added, manual route (ms)", "caller_ms", REAL_MANUAL),
        realistic(
            "sandbox time of the cold start added, manual route (ms)", "sandbox_ms", REAL_MANUAL
        ),
        realistic("CPU time of the cold start added, manual route (ms)", "cpu_ms", REAL_MANUAL),
        realistic("peak RSS added, manual route (MB)", "rss_mb", REAL_MANUAL),
        realistic(
            "sandbox time added, floor: SDK + exporter + instrumentors only",
            "sandbox_ms",
            REAL_FLOOR,
        ),
        realistic(
            "CPU time added, floor: SDK + exporter + instrumentors only", "cpu_ms", REAL_FLOOR
        ),
        (
            "INIT added, exec-wrapper route (ms)",
            init_added(WRAPPER),
            init_added(UPSTREAM),
            init_added(DATADOG),
            value(init, BARE, "init_ms"),
            "bare INIT",
        ),
        (
            "1st invocation until sandbox free, added (ms; the deferred build lands here)",
            init_added(WRAPPER, "first_done_ms"),
            init_added(UPSTREAM, "first_done_ms"),
            init_added(DATADOG, "first_done_ms"),
            value(init, BARE, "first_done_ms"),
            "bare",
        ),
        (
            "2nd request sent as the 1st is answered, caller-visible, added (ms)",
            init_added(WRAPPER, "second_ms"),
            init_added(UPSTREAM, "second_ms"),
            init_added(DATADOG, "second_ms"),
            value(init, BARE, "second_ms"),
            "bare",
        ),
        (
            "caller-visible per warm invocation, added (ms)",
            lat_added(OURS_AR, "caller_ms"),
            lat_added(UPSTREAM, "caller_ms"),
            nan,
            value(latency, NONE, "caller_ms"),
            "bare",
        ),
        (
            "sandbox busy per warm invocation, added, after-response (ms)",
            lat_added(OURS_AR, "complete_ms"),
            lat_added(UPSTREAM, "complete_ms"),
            nan,
            value(latency, NONE, "complete_ms"),
            "bare",
        ),
        (
            "sandbox busy per warm invocation, added, sync (ms)",
            lat_added(OURS_SYNC, "complete_ms"),
            lat_added(UPSTREAM, "complete_ms"),
            nan,
            value(latency, NONE, "complete_ms"),
            "bare",
        ),
        (
            "caller-visible per warm invocation, added, manual route (ms)",
            lat_added(MANUAL_AR, "caller_ms"),
            lat_added(UPSTREAM, "caller_ms"),
            nan,
            value(latency, NONE, "caller_ms"),
            "bare",
        ),
        (
            "sandbox busy per warm invocation, added, after-response, manual route (ms)",
            lat_added(MANUAL_AR, "complete_ms"),
            lat_added(UPSTREAM, "complete_ms"),
            nan,
            value(latency, NONE, "complete_ms"),
            "bare",
        ),
        (
            "sandbox busy per warm invocation, added, sync, manual route (ms)",
            lat_added(MANUAL_SYNC, "complete_ms"),
            lat_added(UPSTREAM, "complete_ms"),
            nan,
            value(latency, NONE, "complete_ms"),
            "bare",
        ),
        (
            "sandbox busy, added, export every 1000 ms at 10 req/s (ms, mean)",
            lat_added(OURS_CADENCE, "complete_mean_ms"),
            lat_added(UPSTREAM, "complete_mean_ms"),
            nan,
            value(latency, NONE, "complete_mean_ms"),
            "bare, mean",
        ),
        (
            "sandbox busy, added, export every 5000 ms at 10 req/s (ms, mean)",
            lat_added(OURS_CADENCE_5S, "complete_mean_ms"),
            lat_added(UPSTREAM, "complete_mean_ms"),
            nan,
            value(latency, NONE, "complete_mean_ms"),
            "bare, mean",
        ),
        (
            "caller-visible, added: one SDK span in the handler, no package (floor, not ours)",
            lat_added(SPAN_FLOOR, "caller_ms"),
            lat_added(UPSTREAM, "caller_ms"),
            nan,
            value(latency, NONE, "caller_ms"),
            "bare",
        ),
        (
            "hot path in process, added (us; baseline: one SDK span)",
            warm_added(WARM_OURS),
            warm_added(WARM_UPSTREAM),
            nan,
            warm_added(WARM_SPAN),
            "one SDK span",
        ),
        (
            "hot path in process, added (us; baseline: one SDK span with our attributes)",
            warm_added(WARM_OURS),
            warm_added(WARM_UPSTREAM),
            nan,
            warm_added(WARM_SPAN_ATTRS),
            "span + attributes",
        ),
    ]
    rows = [
        [
            what,
            fmt(ours, 2),
            fmt(up, 2),
            fmt(dd, 2),
            f"{fmt(base, 2)} ({base_name})",
            ratio(ours, up),
            ratio(ours, dd),
            ratio(ours, base),
        ]
        for what, ours, up, dd, base, base_name in table
    ]
    print_table(
        f"Summary (medians; load average at the start of each benchmark: {loads})",
        [
            "what",
            "ours",
            "upstream OTel",
            "Datadog lib",
            "baseline",
            "ours/upstream",
            "ours/Datadog",
            "ours/baseline",
        ],
        rows,
    )
    print(
        "\nDatadog: datadog-lambda (with ddtrace) as a library only; its extension is not "
        "installable here, so its INIT and first invocation are measured, not its warm path."
    )
    print(f"({time.monotonic() - t0:.0f} s; {machine_line()} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
