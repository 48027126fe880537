"""Did anyone wait, and for how long? Four rules against the simulator's ground truth.

Runs seeded randomized scenarios with the demo function instrumented by otel-lambda-init; the
simulator's front end stamps each HTTP event when it arrives (API Gateway REST, HTTP API and
Function URL shapes, by turns) with its clock skewed from the sandboxes' by ``--skews`` ms.
For every sandbox that served a request it compares the verdict on its first invocation with
the truth (did that request wait for the INIT?), per rule, from the same spans of one run:
- the 10 s rule: proactive iff the first invocation started > 10 s after INIT started;
- a 50 ms idle rule (Bref's): proactive iff it started > 50 ms after INIT ended;
- ours without event time: our classifier fed the span's INIT duration and gap, no event time;
- ours: the span's ``faas.coldstart`` and ``lambda_init.classified_by``.
It also compares ``lambda_init.caller_wait_ms`` with the truth (INIT end minus the later of
the request's arrival and INIT start). Families: bursts, steady, deploy, rotation, a slow
external extension, short idle (first request 10-80 ms after INIT end), arrival during INIT,
and a non-HTTP trigger (SQS shape). Usage:
    python benchmarks/proactive_agreement.py [--seeds 2] [--skews 0,20,-20] [--families ...]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from otel_lambda_init._core import classify
from otel_lambda_sim.fleet import Fleet
from otel_lambda_sim.front_end import FrontEnd
from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan
from otel_lambda_sim.sandbox import Sandbox
from otel_lambda_sim.scenarios import Scenario
from otel_lambda_sim.shared_interpreter import prompt_hand_overs

DEMO_DIR = Path(__file__).resolve().parents[1] / "src" / "otel_lambda_demo"
TEN_S_MS = 10_000.0
BREF_IDLE_MS = 50.0
HTTP_TRIGGERS = ("api-gateway-rest", "http-api", "function-url")
RULES = ("10 s rule", "50 ms idle", "ours, no event time", "ours")


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


def non_http(rng: random.Random) -> Scenario:
    scenario = rng.choice([bursts, steady])(rng)
    scenario.name = "non-http"
    return scenario


FLEET_FAMILIES: dict[str, Callable[[random.Random], Scenario]] = {
    "bursts": bursts,
    "steady": steady,
    "deploy": deploy,
    "rotation": rotation,
    "slow-extension": slow_extension,
    "non-http": non_http,
}
DRIVEN_FAMILIES = ("short-idle", "during-init")
FAMILIES = (*FLEET_FAMILIES, *DRIVEN_FAMILIES)


@dataclass
class Sample:
    """One served sandbox's first invocation: the truth and what each rule said."""

    family: str
    seed: int
    skew_ms: float
    trigger: str
    waited: bool
    truth_wait_ms: float
    arrived_after_init_ms: float  # first request's arrival minus INIT end (truth's clock)
    cold: dict[str, bool] = field(default_factory=dict)
    classified_by: str = ""
    caller_wait_ms: float | None = None
    gap_ms: float = 0.0  # INIT end -> first invocation start, as the span says
    sim_handover_ms: float | None = None  # waited: INIT end -> the simulator served the event
    cpu_wait_ms: float | None = None  # the span's lambda_init.next_cpu_wait_ms
    next_wait_ms: float | None = None  # the span's lambda_init.next_wait_ms

    @property
    def http(self) -> bool:
        return self.trigger in HTTP_TRIGGERS


def _first_invocations(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    out = {}
    for span in spans:
        attrs = span.attributes
        if "faas.invocation_id" in attrs and attrs.get("lambda_init.sandbox_invocation") == 1:
            out[str(span.resource.get("faas.instance"))] = span
    return out


def judge(sample: Sample, span: ReceivedSpan, extensions: bool) -> Sample:
    a = span.attributes
    duration = float(a["lambda_init.duration_ms"])
    gap = float(a["lambda_init.gap_ms"])
    ms = 1_000_000
    timeline = classify.InitTimeline(0, int(duration * ms))
    next_wait = a.get("lambda_init.next_wait_ms")
    measured = next_wait is not None and "lambda_init.next_cpu_wait_ms" in a
    if measured:  # the idle the rule compares, as the span says: less the runtime's CPU wait
        received = timeline.end_ns + int(float(next_wait) * ms)  # type: ignore[arg-type]
        timeline = timeline._replace(
            ready_ns=timeline.end_ns, received_ns=received, next_cpu_wait_ns=0
        )
    without = classify.classify_first_invocation(
        timeline,
        int((duration + gap) * ms),
        "on-demand",
        TEN_S_MS,
        classify.idle_gap_threshold_ms(
            None, classify.DEFAULT_IDLE_GAP_WITH_EXTENSIONS_MS, extensions, measured
        ),
    )
    sample.cold = {
        "10 s rule": duration + gap <= TEN_S_MS,
        "50 ms idle": gap <= BREF_IDLE_MS,
        "ours, no event time": without.coldstart,
        "ours": bool(a["faas.coldstart"]),
    }
    sample.gap_ms = gap
    sample.classified_by = str(a.get("lambda_init.classified_by"))
    wait = a.get("lambda_init.caller_wait_ms")
    sample.caller_wait_ms = None if wait is None else float(wait)
    cpu_wait = a.get("lambda_init.next_cpu_wait_ms")
    sample.cpu_wait_ms = None if cpu_wait is None else float(cpu_wait)
    next_wait = a.get("lambda_init.next_wait_ms")
    sample.next_wait_ms = None if next_wait is None else float(next_wait)
    return sample


def _print_misses(wrong: list[Sample], got: list[Sample]) -> None:
    """Every wrong verdict, and every caller wait beyond its bound, with what explains it."""
    for s in wrong:
        print(f"#   truth {'cold' if s.waited else 'proactive'}, arrived "
              f"{s.arrived_after_init_ms:+.1f} ms after INIT end, gap {s.gap_ms:.1f} ms "
              f"(simulator served it {s.sim_handover_ms} ms after INIT end), by "
              f"{s.classified_by}, caller_wait {s.caller_wait_ms}, "
              f"next_cpu_wait {s.cpu_wait_ms} ms, next_wait {s.next_wait_ms} ms, "
              f"{s.trigger}")  # fmt: skip
    for s in got:
        if s.caller_wait_ms is not None and s.http:
            error = s.caller_wait_ms - s.truth_wait_ms
            if abs(error) > wait_bound_ms(s):
                print(f"#   caller_wait {s.caller_wait_ms:.1f} ms, truth {s.truth_wait_ms:.1f} "
                      f"ms, arrived {s.arrived_after_init_ms:+.1f} ms after INIT end, simulator "
                      f"served it {s.sim_handover_ms} ms after INIT end, gap {s.gap_ms:.1f} "
                      f"ms, next_cpu_wait {s.cpu_wait_ms} ms")  # fmt: skip


MISSING = [0]  # served first invocations whose span never arrived (or were not served)


def wait_spans(receiver: OtlpReceiver, served: int) -> list[ReceivedSpan]:
    """Every served sandbox's first invocation span, or what came within 30 s."""
    try:
        return receiver.wait_for(lambda s: len(_first_invocations(s)) >= served, 30)
    except TimeoutError:
        return receiver.spans()


def truth_wait_ms(arrival_ns: int, init_start_ns: int, init_end_ns: int) -> float:
    return max(0, init_end_ns - max(arrival_ns, init_start_ns)) / 1e6


def run_fleet(family: str, seed: int, skew_ms: float, trigger: str) -> list[Sample]:
    rng = random.Random(f"{family}-{seed}")
    scenario = FLEET_FAMILIES[family](rng)
    scenario.handler = "app.handler"
    scenario.drain_s = 0.3
    with OtlpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"}
        front = FrontEnd(trigger, skew_ms)
        result = Fleet(scenario, code_dir=DEMO_DIR, env=env, front_end=front).run()
        served = [s for s in result.sandboxes if s.invocations]
        spans = wait_spans(receiver, len(served))
    firsts = _first_invocations(spans)
    samples = []
    for sandbox in served:
        first = min(
            (r for r in result.requests if r.sandbox == sandbox.name and r.sandbox_invocation == 1),
            key=lambda r: r.arrival_ns,
        )
        span = firsts.get(str(sandbox.log_stream))
        if span is None:
            MISSING[0] += 1
            continue
        sample = Sample(
            family,
            seed,
            skew_ms,
            trigger,
            sandbox.waited_for,
            truth_wait_ms(first.arrival_ns, sandbox.init_start_ns, sandbox.init_end_ns)
            if sandbox.waited_for
            else 0.0,
            (first.arrival_ns - sandbox.init_end_ns) / 1e6,
        )
        if sandbox.waited_for and first.served_ns:
            sample.sim_handover_ms = (first.served_ns - sandbox.init_end_ns) / 1e6
        samples.append(judge(sample, span, scenario.extension_init_ms is not None))
    return samples


def run_driven(family: str, seed: int, skew_ms: float, trigger: str, n: int = 4) -> list[Sample]:
    """Sandboxes driven one request each: short idle (arrival 10-80 ms after INIT end) or
    arrival during INIT (eager assignment: queued to the initializing sandbox)."""
    rng = random.Random(f"{family}-{seed}")
    delays = [rng.uniform(10, 80) if family == "short-idle" else rng.uniform(50, 1200)
              for _ in range(n)]  # fmt: skip
    init_ms = rng.choice([300, 500])
    front = FrontEnd(trigger, skew_ms)
    with OtlpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"}
        # A host at load 20 can stretch INIT past 10 s; the cap is not what this family tests.
        scenario = Scenario(
            name=family, handler="app.handler", init_ms=init_ms, init_timeout_s=60.0
        )
        function = scenario.function_config(code_dir=DEMO_DIR, env=env)
        sandboxes = [Sandbox(function, name=f"{family[:5]}{seed}{i}") for i in range(n)]
        arrivals: list[int] = [0] * n

        def drive(i: int) -> None:
            box = sandboxes[i]
            box.start()
            api = box.api
            if family == "short-idle":
                box.wait_init()
                target_ns = api.init_done_ns + int(delays[i] * 1e6)
            else:
                target_ns = api.init_start_ns + int(delays[i] * 1e6)
            time.sleep(max(0.0, (target_ns - time.time_ns()) / 1e9))
            arrivals[i] = time.time_ns()
            event = front.stamp(scenario.event_for(i), arrivals[i])
            try:
                api.enqueue(event, start_ns=arrivals[i]).wait(90)
            except TimeoutError:
                arrivals[i] = 0  # not served: left out, and said so

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(n)]
        with prompt_hand_overs():  # as a fleet's replay does
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        served = sum(1 for a in arrivals if a)
        spans = wait_spans(receiver, served)
        for box in sandboxes:
            box.shutdown("spindown")
    firsts = _first_invocations(spans)
    samples = []
    for box, arrival in zip(sandboxes, arrivals, strict=True):
        span = firsts.get(str(box.log_stream_name))
        if span is None or not arrival:
            MISSING[0] += 1
            continue
        end, start = box.api.init_done_ns, box.api.init_start_ns
        waited = arrival <= end
        sample = Sample(
            family,
            seed,
            skew_ms,
            trigger,
            waited,
            truth_wait_ms(arrival, start, end) if waited else 0.0,
            (arrival - end) / 1e6,
        )
        samples.append(judge(sample, span, False))
    return samples


def run_one(family: str, seed: int, skew_ms: float) -> list[Sample]:
    trigger = "sqs" if family == "non-http" else HTTP_TRIGGERS[seed % len(HTTP_TRIGGERS)]
    if family in DRIVEN_FAMILIES:
        return run_driven(family, seed, skew_ms, trigger)
    return run_fleet(family, seed, skew_ms, trigger)


def pct(right: int, n: int) -> str:
    return f"{right}/{n} ({100 * right / n:.1f}%)" if n else "-"


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return (
        f"min {values[0]:.1f} median {statistics.median(values):.1f} p90 {p90:.1f} "
        f"max {values[-1]:.1f} ms (n={len(values)})"
    )


def wait_bound_ms(sample: Sample) -> float:
    """Must show 2: within 5 ms plus the skew, or 5 % of the truth."""
    return max(5.0 + abs(sample.skew_ms), 0.05 * sample.truth_wait_ms)


def report(samples: list[Sample], markdown: bool) -> None:
    skews = sorted({s.skew_ms for s in samples})
    families = [f for f in FAMILIES if any(s.family == f for s in samples)]
    bar = "|" if markdown else " "
    for skew in skews:
        at = [s for s in samples if s.skew_ms == skew]
        print(f"\n### front-end clock skew {skew:+g} ms\n")
        print(f"{bar} family {bar} served (waited) {bar} " + f" {bar} ".join(RULES) + f" {bar}")
        if markdown:
            print("|---" * (len(RULES) + 2) + "|")
        for family in families:
            picked = [s for s in at if s.family == family]
            n = len(picked)
            cells = [pct(sum(s.cold[r] == s.waited for s in picked), n) for r in RULES]
            waited = sum(s.waited for s in picked)
            print(
                f"{bar} {family} {bar} {n} ({waited}) {bar} " + f" {bar} ".join(cells) + f" {bar}"
            )
        cells = [pct(sum(s.cold[r] == s.waited for s in at), len(at)) for r in RULES]
        print(f"{bar} all {bar} {len(at)} {bar} " + f" {bar} ".join(cells) + f" {bar}")
    for label, ext in (("no external extension", False), ("slow external extension", True)):
        picked = [s for s in samples if (s.family == "slow-extension") == ext]
        cold = sorted(s.gap_ms for s in picked if s.waited)
        idle = sorted(s.gap_ms for s in picked if not s.waited)
        served = [s.sim_handover_ms for s in picked if s.sim_handover_ms is not None]
        print(
            f"\n{label}: gap (INIT end -> first invocation) of first invocations someone waited "
            f"for: {spread(cold)}; nobody waited for: {spread(idle)}; the simulator's API "
            f"served the waited-for event after INIT end: {spread(served)}"
        )
    ties = [s for s in samples if abs(s.arrived_after_init_ms) <= 1.0]
    print(
        f"\nties: {len(ties)} first requests arrived within 1 ms of INIT end (below the "
        f"trigger's ms resolution); ours agreed on {sum(s.cold['ours'] == s.waited for s in ties)}"
    )
    print("\n### ours, per lambda_init.classified_by (all skews)\n")
    print(f"{bar} classified_by {bar} first invocations {bar} agree with the truth {bar}")
    if markdown:
        print("|---|---|---|")
    for by in sorted({s.classified_by for s in samples}):
        picked = [s for s in samples if s.classified_by == by]
        right = sum(s.cold["ours"] == s.waited for s in picked)
        print(f"{bar} {by} {bar} {len(picked)} {bar} {pct(right, len(picked))} {bar}")
    print("\n### lambda_init.caller_wait_ms against the truth\n")
    print(
        f"{bar} family {bar} skew ms {bar} HTTP first invocations {bar} with caller_wait_ms "
        f"{bar} mean abs error ms {bar} max abs error ms {bar} within 5 ms + skew (or 5 %) {bar}"
    )
    if markdown:
        print("|---" * 7 + "|")
    for family in families:
        for skew in skews:
            picked = [s for s in samples if s.family == family and s.skew_ms == skew]
            http = [s for s in picked if s.http]
            if not http:
                present = sum(s.caller_wait_ms is not None for s in picked)
                print(f"{bar} {family} {bar} {skew:+g} {bar} 0 (non-HTTP: {present} carry it) "
                      f"{bar} - {bar} - {bar} - {bar} - {bar}")  # fmt: skip
                continue
            have = [s for s in http if s.caller_wait_ms is not None]
            errors = [abs(s.caller_wait_ms - s.truth_wait_ms) for s in have]  # type: ignore[operator]
            within = sum(
                abs(s.caller_wait_ms - s.truth_wait_ms) <= wait_bound_ms(s)  # type: ignore[operator]
                for s in have
            )
            mean = statistics.fmean(errors) if errors else 0.0
            print(
                f"{bar} {family} {bar} {skew:+g} {bar} {len(http)} {bar} {len(have)} {bar} "
                f"{mean:.1f} {bar} {max(errors, default=0):.1f} {bar} "
                f"{pct(within, len(have))} {bar}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--skews", default="0,20,-20", help="front-end clock skews, ms")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--markdown", action="store_true", help="tables as Markdown")
    parser.add_argument("--verbose", action="store_true", help="print every wrong verdict")
    args = parser.parse_args(argv)
    samples: list[Sample] = []
    t0 = time.monotonic()
    for skew in [float(x) for x in args.skews.split(",")]:
        for family in args.families.split(","):
            for seed in range(args.seeds):
                got = run_one(family, seed, skew)
                samples += got
                wrong = [s for s in got if s.cold["ours"] != s.waited]
                print(
                    f"# {family:<15} seed {seed} skew {skew:+5.0f} ms: {len(got)} served, "
                    f"ours wrong {len(wrong)}",
                    flush=True,
                )
                if args.verbose:
                    _print_misses(wrong, got)
    report(samples, args.markdown)
    print(
        f"\n{len(samples)} first invocations ({MISSING[0]} left out: not served or no span), "
        f"{time.monotonic() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
