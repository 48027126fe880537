"""INIT cost of the exec wrapper, measured through the simulator against runs without it.

Each variant starts fresh sandboxes of the same plain function (tests/ways_in_handlers) and
reads INIT duration as the simulator sees it (runtime process start to the runtime's first
``next``). Prints medians and the difference to the uninstrumented baseline measured in the
same run. Usage: python benchmarks/wrapper_init_cost.py [runs]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from otel_lambda_sim.receiver import OtlpReceiver
from otel_lambda_sim.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
WAYS_IN = ROOT / "tests" / "ways_in_handlers"
HANDLERS = ROOT / "tests" / "handlers"
SRC = ROOT / "src"


def otel_env(receiver: OtlpReceiver) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }


def init_ms(handler: str, code_dir: Path, env: dict[str, str]) -> float:
    with Sandbox(handler, code_dir, env=env) as sandbox:
        outcome = sandbox.wait_init(30)
        if outcome.status != "done":
            raise RuntimeError(sandbox.logs())
        sandbox.invoke({}, timeout=30)
        return outcome.duration_ms


def main(runs: int = 7) -> None:
    wrapper = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert wrapper, "pip install the package first"
    layer = Path(tempfile.mkdtemp(prefix="bench-layer-"))
    (layer / "python").mkdir()
    (layer / "python" / "otel_lambda_init").symlink_to(SRC / "otel_lambda_init")
    shutil.copy(SRC / "otel_lambda_init" / "auto" / "otel-lambda-init-wrapper", layer / "wrap")
    with OtlpReceiver() as receiver:
        base = otel_env(receiver)
        variants = {
            "no instrumentation": ("plain_app.handler", WAYS_IN, {}),
            "wrapper, disabled (sh + exec only)": (
                "plain_app.handler",
                WAYS_IN,
                {"AWS_LAMBDA_EXEC_WRAPPER": wrapper, "OTEL_LAMBDA_INIT_DISABLED": "true"},
            ),
            "wrapper (installed; shim starts us)": (
                "plain_app.handler",
                WAYS_IN,
                {"AWS_LAMBDA_EXEC_WRAPPER": wrapper},
            ),
            "wrapper (layer layout; sitecustomize)": (
                "plain_app.handler",
                WAYS_IN,
                {"AWS_LAMBDA_EXEC_WRAPPER": str(layer / "wrap")},
            ),
            "wrapper + OTEL_LAMBDA_INIT_AUTO_INSTRUMENT": (
                "plain_app.handler",
                WAYS_IN,
                {"AWS_LAMBDA_EXEC_WRAPPER": wrapper, "OTEL_LAMBDA_INIT_AUTO_INSTRUMENT": "true"},
            ),
            "manual route (SDK + decorator in code)": ("manual_app.handler", HANDLERS, {}),
        }
        samples: dict[str, list[float]] = {name: [] for name in variants}
        init_ms("plain_app.handler", WAYS_IN, base)  # warm the file cache
        for _ in range(runs):  # round-robin, so load on the machine hits every variant alike
            for name, (handler, code_dir, extra) in variants.items():
                samples[name].append(init_ms(handler, code_dir, {**base, **extra}))
        results = {name: statistics.median(values) for name, values in samples.items()}
        baseline = results["no instrumentation"]
        print(f"INIT duration, median of {runs} sandboxes each (ms)")
        for name, value in results.items():
            print(f"  {name:45s} {value:8.1f}   +{value - baseline:6.1f}   x{value / baseline:.2f}")
    shutil.rmtree(layer, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
