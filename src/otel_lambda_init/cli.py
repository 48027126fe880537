"""`otel-lambda-init`: see INIT, proactive initialization and the gap before deploying anything.

Commands: `demo` (the bundled function through a cold start, a proactive init and warm reuse),
`simulate SCENARIO --handler module.fn` (any handler, any scenario), `view FILE.jsonl`.
Only the simulator (the separate `otel_lambda_sim` package, imported inside each command) is
used here: the instrumentation runs inside the sandboxes, as user code, never in this process.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["main"]

BUILTIN_SCENARIOS = ("demo",)
DEMO_THRESHOLD_MS = 1500.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="otel-lambda-init",
        description="Run Lambda handlers locally (real awslambdaric processes) and see their "
        "INIT, proactive initializations and the gap as OpenTelemetry traces.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--endpoint",
            help="OTLP/HTTP base URL to send spans to (default: OTEL_EXPORTER_OTLP_ENDPOINT, "
            "else an embedded receiver that writes JSON lines and an HTML view)",
        )
        sp.add_argument(
            "--out", type=Path, help="output directory (default ./otel-lambda-init-out)"
        )
        sp.add_argument("--quiet", action="store_true", help="no progress lines")

    demo = sub.add_parser("demo", help="run the bundled demo function through a short scenario")
    common(demo)
    demo.add_argument(
        "--threshold-ms",
        type=float,
        default=DEMO_THRESHOLD_MS,
        help="proactive threshold given to the sandboxes (scaled down from 10 s to keep the "
        "demo short; default %(default)s)",
    )
    sim = sub.add_parser("simulate", help="run a scenario (YAML/JSON file or 'demo')")
    common(sim)
    sim.add_argument("scenario", help="scenario file (.yaml/.yml/.json) or a built-in name: demo")
    sim.add_argument("--handler", help="module.function (overrides the scenario's)")
    sim.add_argument("--code-dir", type=Path, help="the function's code directory")
    sub.add_parser(
        "layer",
        help="layer build --out DIR [--python 3.12] [--arch x86_64]: build the Lambda layer zip",
        add_help=False,
    )
    view = sub.add_parser("view", help="render an OTLP JSON lines file to HTML")
    view.add_argument("file", type=Path)
    view.add_argument("--out", type=Path, help="HTML file (default: FILE with .html)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["layer", "build"]:
        from .auto.layer import main as layer_main

        return layer_main(argv[2:])
    args = _parser().parse_args(argv)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        if args.command == "view":
            return _view(args)
        return _simulate(args)
    except SimulatorMissing as exc:
        print(f"otel-lambda-init: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: every sandbox was stopped", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, TimeoutError) as exc:
        print(f"otel-lambda-init: error: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


SIMULATOR_MISSING = (
    "the local Lambda simulator is not installed; install it with "
    "`pip install 'otel-lambda-init[simulator]'`"
)


class SimulatorMissing(RuntimeError):
    """`otel_lambda_sim` or its dependency opentelemetry-proto is absent (no `simulator` extra)."""


def _require_simulator() -> None:
    """Import the simulator's dependencies once, so a missing extra is one clear message."""
    try:
        import otel_lambda_sim.fleet  # noqa: F401
        import otel_lambda_sim.view  # noqa: F401
    except ImportError as exc:
        raise SimulatorMissing(f"{SIMULATOR_MISSING} ({exc})") from exc


def _view(args: argparse.Namespace) -> int:
    _require_simulator()
    from otel_lambda_sim.view import write_html

    out = write_html(args.file, args.out)
    print(f"HTML: {out}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    _require_simulator()
    from otel_lambda_sim.fleet import Fleet
    from otel_lambda_sim.receiver import OtlpReceiver
    from otel_lambda_sim.scenarios import demo_scenario, load_scenario
    from otel_lambda_sim.summary import format_summary
    from otel_lambda_sim.view import load_jsonl, write_html

    notes: list[str] = []
    if args.command == "demo":
        import otel_lambda_demo as demo_pkg

        scenario = demo_scenario(args.threshold_ms)
        code_dir = Path(demo_pkg.__file__).parent
        handler = scenario.handler
        notes.append(
            f"OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS={args.threshold_ms:.0f} in the sandboxes "
            "(Lambda's field heuristic is 10000 ms; scaled so the demo takes seconds)"
        )
    else:
        if args.scenario in BUILTIN_SCENARIOS:
            scenario = demo_scenario()
        else:
            scenario = load_scenario(args.scenario)
        handler = args.handler or scenario.handler
        code_dir = args.code_dir or Path(scenario.code_dir or ".")
        if not handler:
            raise ValueError("no handler: pass --handler module.function")
        if not code_dir.is_dir():
            raise FileNotFoundError(f"code directory {code_dir} does not exist")
    out_dir: Path = args.out or Path("otel-lambda-init-out")
    endpoint = args.endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    # The user's OTEL_* settings (headers, service name...) are meant for the function.
    env = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}
    env.setdefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    progress = None if args.quiet else _progress
    started = time.monotonic()
    receiver = None if endpoint else OtlpReceiver().start()
    try:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint or (receiver.endpoint if receiver else "")
        print(
            f"running scenario {scenario.name!r} with handler {handler} from {code_dir} "
            f"({len(scenario.arrival_times())} requests)",
            file=sys.stderr,
        )
        result = Fleet(
            scenario, handler=handler, code_dir=code_dir, env=env, progress=progress
        ).run()
        truth = result.truth_summary()
        failures = _init_failures(result)
        if receiver is None:
            print(f"spans sent to {endpoint}")
            print(_truth_text(truth))
        else:
            _wait_quiet(receiver)
            out_dir.mkdir(parents=True, exist_ok=True)
            jsonl = receiver.to_jsonl(out_dir / f"{scenario.name}.jsonl")
            html = write_html(jsonl, out_dir / f"{scenario.name}.html", truth=truth, notes=notes)
            print(format_summary(_summarize(load_jsonl(jsonl)), truth, notes))
            print(f"OTLP JSON lines: {jsonl}")
            print(f"HTML view:       {html}")
        print(f"wall time {time.monotonic() - started:.1f}s")
    finally:
        if receiver is not None:
            receiver.stop()
    if failures:
        for line in failures:
            print(line, file=sys.stderr)
        return 1
    return 0


def _summarize(spans: Any) -> Any:
    from otel_lambda_sim.summary import summarize

    return summarize(spans)


def _truth_text(truth: dict[str, Any]) -> str:
    return "simulator ground truth: " + ", ".join(f"{k}={v}" for k, v in truth.items())


def _init_failures(result: Any) -> list[str]:
    """One clear line per sandbox whose INIT failed, as Lambda would report it."""
    lines = []
    for sb in result.sandboxes:
        if sb.init_status in ("error", "exited"):
            lines.append(f"INIT failed in {sb.name}: {sb.init_error_type}: {sb.init_error_message}")
            if sb.logs_tail.strip():
                lines.append("  runtime output (last lines):")
                lines.extend(f"    {ln}" for ln in sb.logs_tail.strip().splitlines()[-8:])
    return lines


def _wait_quiet(receiver: Any, quiet_s: float = 0.6, limit_s: float = 5.0) -> None:
    """Wait until no export arrived for quiet_s (sandboxes flush at shutdown), bounded."""
    end = time.monotonic() + limit_s
    count = -1
    while time.monotonic() < end:
        now = len(receiver.requests)
        if now == count:
            return
        count = now
        time.sleep(quiet_s)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
