"""Did anyone wait? The 10 s rule alone vs ours, against the simulator's ground truth.

Runs seeded randomized fleet scenarios (bursts, steady load, deploy, rotation, a slow
external extension) with the demo function instrumented by otel-lambda-init, collects its
spans over OTLP/HTTP, and for every sandbox that served a request compares, per rule, the
verdict on its first invocation with the fleet's truth (did that request wait for the INIT?):
- the 10 s rule: proactive iff the first invocation started > 10 s after INIT started
  (``lambda_init.duration_ms + lambda_init.gap_ms`` on the span);
- ours: the span's ``faas.coldstart`` (10 s rule, idle gap, ``lambda_init.classified_by``).
Both from the same spans of the same run. Usage:
    python benchmarks/proactive_agreement.py [--seeds 3] [--families bursts,steady,...]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from otel_lambda_sim.fleet import Fleet, FleetResult
from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan
from otel_lambda_sim.scenarios import Scenario

DEMO_DIR = Path(__file__).resolve().parents[1] / "src" / "otel_lambda_demo"
TEN_S_MS = 10_000.0
BORDERLINE_MS = 50.0
"""A first request that arrived within this long after INIT ended: by the truth nobody waited
for INIT, but only by milliseconds, below what the sandbox can resolve; counted apart."""


def _bursts(rng: random.Random, t0: float, until: float, size: tuple[int, int]) -> list[float]:
    arrivals, t = [], t0
    while t < until:
        arrivals += [t + rng.uniform(0, 0.05) for _ in range(rng.randint(*size))]
        t += rng.uniform(0.6, 2.0)
    return arrivals


def _poisson(rng: random.Random, rate: float, until: float, t0: float = 0.0) -> list[float]:
    arrivals, t = [], t0
    while True:
        t += rng.expovariate(rate)
        if t >= until:
            return arrivals
        arrivals.append(t)


def bursts(rng: random.Random) -> Scenario:
    return Scenario(
        name="bursts",
        init_ms=rng.choice([400, 500, 700]),
        handler_ms=rng.choice([200, 250, 400]),
        concurrency=6,
        arrivals=_bursts(rng, 0.0, 7.0, (1, 4)),
    )


def steady(rng: random.Random) -> Scenario:
    return Scenario(
        name="steady",
        init_ms=rng.choice([300, 500]),
        handler_ms=rng.choice([150, 300]),
        concurrency=5,
        arrivals=_poisson(rng, rng.uniform(3.0, 6.0), 7.0),
    )


def deploy(rng: random.Random) -> Scenario:
    # Pre-warmed sandboxes, a deploy mid-run: its replacements start with nobody waiting;
    # one long quiet stretch makes the 10 s rule fire too.
    at = rng.uniform(1.5, 2.5)
    return Scenario(
        name="deploy",
        init_ms=rng.choice([300, 600]),
        handler_ms=200,
        concurrency=4,
        prewarm=2,
        deploys=[at],
        arrivals=_poisson(rng, 2.0, at) + [at + 10.5 + rng.uniform(0, 0.5)],
    )


def rotation(rng: random.Random) -> Scenario:
    return Scenario(
        name="rotation",
        init_ms=rng.choice([300, 500]),
        handler_ms=rng.choice([100, 250]),
        concurrency=4,
        rotations=sorted(rng.uniform(0.5, 5.0) for _ in range(3)),
        arrivals=_poisson(rng, rng.uniform(2.0, 4.0), 7.0),
    )


def slow_extension(rng: random.Random) -> Scenario:
    scenario = bursts(rng)
    scenario.name = "slow-extension"
    # Extensions start with the runtime; what matters is how long after the runtime's first
    # next they finish (the runtime's INIT here is ~1 s: interpreter, SDK, init_ms).
    scenario.extension_init_ms = rng.choice([1_400.0, 1_800.0, 2_200.0])
    return scenario


FAMILIES: dict[str, Callable[[random.Random], Scenario]] = {
    "bursts": bursts,
    "steady": steady,
    "deploy": deploy,
    "rotation": rotation,
    "slow-extension": slow_extension,
}


@dataclass
class Row:
    family: str
    seed: int
    sandboxes: int = 0
    waited: int = 0
    ten_s_right: int = 0
    ours_right: int = 0
    missing: int = 0
    wrong: str = ""
    borderline: int = 0
    ours_right_clear: int = 0  # ours, on the sandboxes that are not borderline
    sim_dispatch_ms: float = 0.0  # the simulator's own INIT end -> delivery, waited-for only
    cold_gaps: tuple[float, ...] = ()
    idle_gaps: tuple[float, ...] = ()


def _first_invocations(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    out = {}
    for span in spans:
        attrs = span.attributes
        if "faas.invocation_id" in attrs and attrs.get("lambda_init.sandbox_invocation") == 1:
            out[str(span.resource.get("faas.instance"))] = span
    return out


def score(family: str, seed: int, result: FleetResult, spans: list[ReceivedSpan]) -> Row:
    firsts = _first_invocations(spans)
    row = Row(family, seed)
    wrong = []
    cold_gaps, idle_gaps = [], []
    for sandbox in result.sandboxes:
        if not sandbox.invocations:
            continue
        row.sandboxes += 1
        row.waited += sandbox.waited_for
        if sandbox.waited_for:
            first = min(
                (r for r in result.requests if r.sandbox == sandbox.name and r.served_ns),
                key=lambda r: r.served_ns,
                default=None,
            )
            if first is not None and sandbox.init_end_ns:
                lag = (first.served_ns - sandbox.init_end_ns) / 1e6
                row.sim_dispatch_ms = max(row.sim_dispatch_ms, lag)
        span = firsts.get(str(sandbox.log_stream))
        if span is None:
            row.missing += 1
            continue
        a = span.attributes
        since_start = float(a["lambda_init.duration_ms"]) + float(a["lambda_init.gap_ms"])
        ten_s_cold = since_start <= TEN_S_MS
        ours_cold = bool(a["faas.coldstart"])
        (cold_gaps if sandbox.waited_for else idle_gaps).append(float(a["lambda_init.gap_ms"]))
        row.ten_s_right += ten_s_cold == sandbox.waited_for
        row.ours_right += ours_cold == sandbox.waited_for
        arrived = [r.arrival_ns for r in result.requests if r.sandbox == sandbox.name]
        after_init_ms = (min(arrived) - sandbox.init_end_ns) / 1e6 if arrived else 0.0
        if not sandbox.waited_for and 0 <= after_init_ms < BORDERLINE_MS:
            row.borderline += 1
        else:
            row.ours_right_clear += ours_cold == sandbox.waited_for
        if ours_cold != sandbox.waited_for:
            wrong.append(
                f"{sandbox.name}: truth {'cold' if sandbox.waited_for else 'proactive'}, "
                f"gap {a['lambda_init.gap_ms']} ms, by {a.get('lambda_init.classified_by')}"
            )
    row.wrong = "; ".join(wrong)
    row.cold_gaps, row.idle_gaps = tuple(cold_gaps), tuple(idle_gaps)
    return row


def run_one(family: str, seed: int, idle_gap_ms: str | None = None) -> Row:
    rng = random.Random(f"{family}-{seed}")
    scenario = FAMILIES[family](rng)
    scenario.handler = "app.handler"
    scenario.drain_s = 0.3
    with OtlpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"}
        if idle_gap_ms is not None:
            env["OTEL_LAMBDA_INIT_IDLE_GAP_MS"] = idle_gap_ms
        result = Fleet(scenario, code_dir=DEMO_DIR, env=env).run()
        served = sum(1 for s in result.sandboxes if s.invocations)
        spans = receiver.wait_for(lambda s: len(_first_invocations(s)) >= served, timeout=15)
    return score(family, seed, result, spans)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--idle-gap-ms", help="OTEL_LAMBDA_INIT_IDLE_GAP_MS (default: ours)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    t0 = time.monotonic()
    print(f"{'family':<15}{'seed':>5}{'served':>8}{'waited':>8}{'10 s rule':>11}{'ours':>7}")
    for family in args.families.split(","):
        for seed in range(args.seeds):
            row = run_one(family, seed, args.idle_gap_ms)
            rows.append(row)
            print(
                f"{family:<15}{seed:>5}{row.sandboxes:>8}{row.waited:>8}"
                f"{row.ten_s_right:>7}/{row.sandboxes:<3}{row.ours_right:>4}/{row.sandboxes:<3}"
                + f"  (sim dispatch <= {row.sim_dispatch_ms:.0f} ms)"
                + (f"  missing spans: {row.missing}" if row.missing else "")
                + (f"  ours wrong: {row.wrong}" if row.wrong else ""),
                flush=True,
            )
    total = sum(r.sandboxes for r in rows)
    ten = sum(r.ten_s_right for r in rows)
    ours = sum(r.ours_right for r in rows)
    for label, ext in (("no external extension", False), ("slow external extension", True)):
        picked = [r for r in rows if (r.family == "slow-extension") == ext]
        cold = sorted(g for r in picked for g in r.cold_gaps)
        idle = sorted(g for r in picked for g in r.idle_gaps)
        print(
            f"{label}: gap (INIT end -> first invocation) of sandboxes someone waited for "
            f"max {max(cold, default=0):.1f} ms (n={len(cold)}); nobody waited for "
            f"min {min(idle, default=0):.1f} ms (n={len(idle)})"
        )
    for label, ext in (("without", False), ("with", True)):
        picked = [r for r in rows if (r.family == "slow-extension") == ext]
        n = sum(r.sandboxes for r in picked)
        b = sum(r.borderline for r in picked)
        print(
            f"{label} a slow external extension: 10 s rule "
            f"{sum(r.ten_s_right for r in picked)}/{n}, ours {sum(r.ours_right for r in picked)}"
            f"/{n}; ours without the {b} borderline sandboxes (first request < "
            f"{BORDERLINE_MS:.0f} ms after INIT end) {sum(r.ours_right_clear for r in picked)}"
            f"/{n - b}"
        )
    print(
        f"\nagreement with ground truth over {total} served sandboxes "
        f"({len(rows)} runs, {time.monotonic() - t0:.0f} s): "
        f"10 s rule {ten}/{total} = {100 * ten / max(total, 1):.1f}%, "
        f"ours {ours}/{total} = {100 * ours / max(total, 1):.1f}%"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
