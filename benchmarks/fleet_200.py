"""200 sandboxes at once on this machine: wall time and peak memory of the simulator.

Prints the simulator process's peak RSS, the peak total RSS of all sandbox processes (sampled
every 100 ms from /proc), and the wall time, with a 1-sandbox run as the baseline measured in
the same run. Usage: python benchmarks/fleet_200.py [N]
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from pathlib import Path

from otel_lambda_sim.fleet import Fleet
from otel_lambda_sim.scenarios import Scenario

HANDLERS = Path(__file__).resolve().parents[1] / "tests" / "simulator_handlers"


def _sandbox_rss_mb(marker: bytes) -> float:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes():
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def run(n: int) -> dict[str, float]:
    marker = f"bench-{time.time_ns()}"
    scenario = Scenario(
        name=f"fleet-{n}",
        handler="timed.handler",
        init_ms=100,
        handler_ms=50,
        concurrency=n,
        arrivals=[0.0] * n,  # all at once: none finds an idle sandbox, n start
        env={"BENCH_MARK": marker},
        drain_s=0.0,
    )
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _sandbox_rss_mb(marker.encode()))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    result = Fleet(scenario, code_dir=HANDLERS, invocation_timeout_s=120).run()
    wall = time.monotonic() - t0
    stop.set()
    sampler.join(timeout=5)
    ok = sum(1 for r in result.requests if r.status == "success")
    return {
        "sandboxes": len(result.sandboxes),
        "ok": ok,
        "wall_s": wall,
        "sandbox_rss_peak_mb": peak[0],
        "p50_latency_ms": sorted(r.latency_ms for r in result.requests)[len(result.requests) // 2],
    }


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = run(1)
    big = run(n)
    self_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"baseline 1 sandbox: {base}")
    print(f"{n} sandboxes:      {big}")
    print(f"simulator process peak RSS: {self_peak_mb:.0f} MB")
    print(
        f"wall ratio {big['wall_s'] / base['wall_s']:.1f}x for {n}x the sandboxes; "
        f"sandbox RSS per sandbox {big['sandbox_rss_peak_mb'] / max(big['sandboxes'], 1):.1f} MB"
    )
    return 0 if big["ok"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
