"""A web app behind the real Lambda Web Adapter under RIE: the caller-visible latency of a warm
request, ours (the ASGI middleware, after-response and sync) beside the same FastAPI app
without instrumentation, alternating in rounds; plus the cold start of each.

RIE answers the caller only after every extension's ``next``: our after-response export is on
the caller's path here, not in Lambda (which answers when the runtime posts). So the table
also gives RIE's own ``INVOKE RTDONE`` duration: the event's hand-over to the adapter until
the adapter posted the app's response, what a caller waits for in Lambda. Needs LWA_BIN
and RIE_BIN (scripts/components.sh); without them it says so and prints no figures.

    python benchmarks/bench_lwa.py [--quick] [--rounds N] [--json out.json]
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from _bench import HERE, fmt, machine_line, median, parse_args, print_table, write_figures

sys.path.insert(0, str(HERE.parent / "tests"))

NONE = "FastAPI, no instrumentation"
OURS_AR = "FastAPI + ours, after-response"
OURS_SYNC = "FastAPI + ours, sync"
RTDONE = re.compile(r"INVOKE RTDONE\(status: success.*?duration: ([0-9.]+)ms\)")
VARIANTS = {
    NONE: {"APP_MODULE": "plain_fastapi_app"},
    OURS_AR: {},
    OURS_SYNC: {"OTEL_LAMBDA_INIT_FLUSH": "sync"},
}


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], default_rounds=200, quick_rounds=5)
    print(f"bench_lwa: {machine_line()}")
    if not (os.environ.get("LWA_BIN") and os.environ.get("RIE_BIN")):
        print("bench_lwa: LWA_BIN/RIE_BIN unset: nothing measured")
        write_figures(args.json, {})
        return 0
    from lambda_harness import otel_env
    from lwa_harness import http_api_event, running_lwa

    from otel_lambda_sim.receiver import OtlpReceiver

    cold: dict[str, float] = {}
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        receiver = stack.enter_context(OtlpReceiver())
        sandboxes = {}
        for name, extra in VARIANTS.items():
            workdir = Path(tmp) / str(len(sandboxes))
            workdir.mkdir()
            env = otel_env(receiver, TMPDIR=str(workdir), **extra)
            sandbox = stack.enter_context(
                running_lwa("run_uvicorn.sh", env=env, log_path=workdir / "sandbox.log")
            )
            first = sandbox.invoke(http_api_event("/orders/0", int(time.time() * 1000)))
            assert first.status == 200, first.payload
            cold[name] = first.latency_s * 1000
            sandboxes[name] = sandbox
        warm: dict[str, list[float]] = {name: [] for name in VARIANTS}
        names = list(VARIANTS)
        for r in range(args.rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                done = sandboxes[name].invoke(http_api_event(f"/orders/{r}", None))
                assert done.status == 200, done.payload
                warm[name].append(done.latency_s * 1000)
        # RIE's runtime-done duration of every warm invocation (the first is the cold one).
        posted = {
            n: [float(d) for d in RTDONE.findall(sb.logs())][1:] for n, sb in sandboxes.items()
        }
    base = median(warm[NONE])
    posted_base = median(posted[NONE])
    rows = []
    figures: dict[str, dict[str, float]] = {}
    for name in VARIANTS:
        m = median(warm[name])
        p = median(posted[name])
        figures[name] = {"caller_ms": m, "posted_ms": p, "cold_ms": cold[name]}
        rows.append(
            [
                name,
                fmt(m, 2),
                fmt(m - base, 2),
                f"{m / base:.2f}x",
                fmt(p, 2),
                fmt(p - posted_base, 2),
                fmt(cold[name], 0),
            ]
        )
    print_table(
        f"Web app behind the Lambda Web Adapter under RIE, {args.rounds} warm requests each",
        [
            "variant",
            "RIE answer ms (median)",
            "added ms",
            "ratio",
            "runtime done ms (Lambda's caller)",
            "added ms",
            "cold start ms (1 run)",
        ],
        rows,
    )
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
