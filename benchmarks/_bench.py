"""Shared helpers for the benchmark scripts: arguments, alternating runs, tables.

Every script measures its variants in rounds, one run of each variant per round in turn, so
a slow moment of a busy machine lands on every variant alike; it prints medians and ratios
against baselines measured in the same run. No figure here is compared with a constant.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otel_lambda_sim.sandbox import Sandbox

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def parse_args(description: str, default_rounds: int, quick_rounds: int = 2) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a few rounds only: checks the script runs (CI)"
    )
    parser.add_argument("--rounds", type=int, default=None, help=f"default {default_rounds}")
    parser.add_argument(
        "--json", default=None, help="also write the medians to this file (run_all.py reads it)"
    )
    parser.add_argument(
        "--collector",
        action="store_true",
        help="bench_latency: export to the OpenTelemetry Collector built by "
        "scripts/components.sh (OTELCOL_BIN), as in Lambda, instead of a Python receiver",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="bench_latency: the sandboxes on the last CPU, the simulator and receiver on the "
        "others (Lambda gives a function its own CPU share; here they compete for two cores)",
    )
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = quick_rounds if args.quick else default_rounds
    return args


def pin_harness() -> set[int] | None:
    """``--pin``, before any thread or child exists: this process (the simulator's Runtime
    APIs, the receiver started from it) keeps every CPU but the last; returns the last, for
    ``pin_sandboxes``. None where affinity cannot be set or there is one CPU."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2:
        return None
    os.sched_setaffinity(0, set(cpus[:-1]))
    return {cpus[-1]}


def pin_sandboxes(pids: Sequence[int], cpus: set[int]) -> int:
    """Every thread of every process in the sandboxes' process groups onto ``cpus`` (after
    their warm-up, so the runtime's helper threads exist). Returns how many were pinned."""
    groups = {os.getpgid(pid) for pid in pids}
    pinned = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) not in groups:
                continue
            for task in os.listdir(f"/proc/{entry}/task"):
                os.sched_setaffinity(int(task), cpus)
                pinned += 1
        except OSError:  # the process or thread ended meanwhile
            continue
    return pinned


def alternate(
    variants: Sequence[tuple[str, Callable[[], float | None]]], rounds: int
) -> dict[str, list[float]]:
    """Run every variant once per round, in turn; a variant returning None is not recorded."""
    results: dict[str, list[float]] = {name: [] for name, _ in variants}
    for r in range(rounds):
        # Rotate the order so no variant always runs right after the same neighbour.
        order = list(variants[r % len(variants) :]) + list(variants[: r % len(variants)])
        for name, run in order:
            value = run()
            if value is not None:
                results[name].append(value)
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value: float, digits: int = 1) -> str:
    if value != value:  # NaN
        return "n/a"
    return f"{value:.{digits}f}"


def ratio(value: float, base: float) -> str:
    if base != base or value != value or base == 0:
        return "n/a"
    return f"{value / base:.2f}x"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table, so the output can be pasted into the README as is."""
    print(f"\n### {title}\n")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


def write_figures(path: str | None, figures: dict[str, dict[str, float]]) -> None:
    """Medians by row and column, for run_all.py's one table; NaN becomes null."""
    if not path:
        return
    import json
    import math

    clean = {
        row: {k: (None if math.isnan(v) else v) for k, v in cols.items()}
        for row, cols in figures.items()
    }
    Path(path).write_text(json.dumps({"load": os.getloadavg()[0], "rows": clean}, indent=1))


_RECEIVER_CHILD = """
import sys
from otel_lambda_sim.receiver import OtlpReceiver
with OtlpReceiver() as receiver:
    print(receiver.endpoint, flush=True)
    sys.stdin.read()
    print(len(receiver.spans()), flush=True)
"""


class ReceiverProcess:
    """The OTLP/HTTP receiver in a process of its own, as a collector is in Lambda: a receiver
    thread inside the benchmark process would share a GIL with the simulated Lambda APIs, so
    an export that overlaps the runtime's and extension's calls would be slowed by them."""

    def __enter__(self) -> ReceiverProcess:
        import subprocess

        self._proc = subprocess.Popen(
            [PYTHON, "-c", _RECEIVER_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        self.endpoint = self._proc.stdout.readline().strip()
        self.span_count = 0
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._proc.communicate(timeout=30)
        self.span_count = int(out.strip() or 0)


class CollectorProcess:
    """The Collector (``OTELCOL_BIN``) receiving OTLP/HTTP on 127.0.0.1, a batch processor and
    the debug exporter: what a function exports to in Lambda (the collector extension) is a
    Go server, whose answers take less than the Python receiver's."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def __enter__(self) -> CollectorProcess:
        import socket
        import subprocess
        import tempfile
        import time

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._dir = tempfile.TemporaryDirectory()
        config = os.path.join(self._dir.name, "collector.yaml")
        with open(config, "w") as f:
            f.write(
                "receivers:\n  otlp:\n    protocols:\n      http:\n"
                f"        endpoint: 127.0.0.1:{port}\n"
                "processors:\n  batch: {}\n"
                "exporters:\n  debug:\n    verbosity: basic\n"
                "service:\n  telemetry:\n    metrics:\n      level: none\n"
                "  pipelines:\n    traces:\n      receivers: [otlp]\n"
                "      processors: [batch]\n      exporters: [debug]\n"
            )
        self._log = open(os.path.join(self._dir.name, "collector.log"), "w+")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [self.binary, "--config", config], stdout=self._log, stderr=subprocess.STDOUT
        )
        self.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if self._proc.poll() is not None:
                    raise RuntimeError("the collector exited at start") from None
                time.sleep(0.1)
        else:
            raise RuntimeError("the collector did not listen within 30 s")
        self.span_count = 0
        return self

    def __exit__(self, *exc: object) -> None:
        import re

        self._proc.terminate()
        try:
            self._proc.wait(timeout=30)
        except Exception:
            self._proc.kill()
        self._log.seek(0)
        self.span_count = sum(int(n) for n in re.findall(r'"spans": (\d+)', self._log.read()))
        self._log.close()
        self._dir.cleanup()


def machine_line() -> str:
    return (
        f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def otlp_env(endpoint: str) -> dict[str, str]:
    """Sandbox variables that send spans (only spans) over OTLP/HTTP to ``endpoint``."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "bench-fn",
    }


@dataclass
class ColdStartRoute:
    """One way of running a function in a cold sandbox, and what its rounds measured (ms, MB)."""

    name: str
    handler: str
    env: dict[str, str] = field(default_factory=dict)
    layer_dirs: list[Path] = field(default_factory=list)
    exports: bool = True
    init_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    first_done_ms: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def cold_start(sandbox: Sandbox, failures: list[str], timeout: float) -> float | None:
    """Start ``sandbox`` and wait for its INIT: INIT in ms (process start to the runtime's
    first ``next``), or None with the reason added to ``failures``."""
    sandbox.start()
    outcome = sandbox.wait_init(timeout)
    if not outcome.ok:
        failures.append(f"INIT {outcome.status}: {outcome.message}")
        return None
    return (sandbox.api.runtime_ready_ns - sandbox.api.init_start_ns) / 1e6


def check_logs(logs: str, failures: list[str]) -> None:
    """A traceback in the sandbox's log is a failure of the route, even when it answered."""
    if "Traceback" in logs:
        failures.append("traceback in the sandbox log:\n" + logs[-2000:])
