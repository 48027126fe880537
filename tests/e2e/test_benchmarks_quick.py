"""Each benchmark runs in its quick mode and prints its tables: the scripts cannot rot.

Nothing here looks at a time: the figures are for people, on a quiet machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

CASES = {
    "bench_import.py": ["Whole process, start to exit", "python -X importtime of a real INIT"],
    "bench_init.py": ["INIT, process start to the runtime's first next", "Peak RSS"],
    "bench_realistic.py": ["Cold start of the realistic function"],
    "bench_warm.py": ["In-memory exporter", "OTLP/HTTP to a local receiver"],
    "bench_latency.py": ["Warm invocation, local receiver"],
    "hot_path_profile.py": ["calls per run", "ours without parent extraction"],
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_runs_in_quick_mode_and_prints_its_tables(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for title in CASES[script]:
        assert title in done.stdout, done.stdout[-3000:]
    assert (
        "| bare" in done.stdout
        or "| no instrumentation" in done.stdout
        or ("| python -c pass" in done.stdout)
    )
    assert "n/a" not in done.stdout.split("###", 1)[1], done.stdout


@pytest.mark.timeout(300)
def test_run_all_prints_the_summary_of_every_benchmark() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_all.py"), "--quick"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=290,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = done.stdout.split("### Summary", 1)[1]
    for row in (
        "INIT added, exec-wrapper route",
        "sandbox busy",
        "hot path in process",
        "realistic function (boto3 + requests, their instrumentors): sandbox time",
    ):
        assert row in summary, summary
    assert "load average" in done.stdout
