"""`otel-lambda-init`: see INIT, proactive initialization and the gap before deploying anything.

Commands: `demo` (the bundled function through a cold start, a proactive init and warm reuse),
`simulate SCENARIO --handler module.fn` (any handler, any scenario), `view FILE.jsonl`.
Only the simulator (the separate `otel_lambda_sim` package, imported inside each command) is
used here: the instrumentation runs inside the sandboxes, as user code, never in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
    from ._core.vocabulary import VERSION

    p = argparse.ArgumentParser(
        prog="otel-lambda-init",
        description="Run Lambda handlers locally (real awslambdaric processes) and see their "
        "INIT, proactive initializations and the gap as OpenTelemetry traces.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--endpoint",
            help="also send the spans to this OTLP/HTTP backend: its base URL (the exporters "
            "append /v1/traces; a full .../v1/traces URL is accepted and said so). Default: "
            "OTEL_EXPORTER_OTLP_ENDPOINT if set. The local summary and HTML view are written "
            "either way; the backend is probed before the run",
        )
        sp.add_argument(
            "--out", type=Path, help="output directory (default ./otel-lambda-init-out)"
        )
        sp.add_argument(
            "--env",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="set a variable in every sandbox (repeatable). Only OTEL_* variables pass "
            "from your shell, as in Lambda the function's environment is its configuration",
        )
        sp.add_argument(
            "--threshold-ms",
            type=float,
            default=None,
            help="OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS in the sandboxes (the demo's default "
            f"is {DEMO_THRESHOLD_MS:.0f}, scaled down from Lambda's 10 s to keep it short)",
        )
        sp.add_argument("--quiet", action="store_true", help="no progress lines")

    demo = sub.add_parser("demo", help="run the bundled demo function through a short scenario")
    common(demo)
    sim = sub.add_parser(
        "simulate",
        help="run a scenario (YAML/JSON file, see examples/scenarios/, or 'demo')",
    )
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
    view.add_argument("--force", action="store_true", help="overwrite an existing HTML file")
    return p


LAYER_USAGE = (
    "usage: otel-lambda-init layer build --out DIR [--python 3.12] [--arch x86_64]\n"
    "Build the Lambda layer zip; `otel-lambda-init layer build --help` lists the options."
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["layer", "build"]:
        from .auto.layer import main as layer_main

        return layer_main(argv[2:])
    if argv[:1] == ["layer"]:
        asked = argv[1:2] in (["--help"], ["-h"])
        print(LAYER_USAGE, file=sys.stdout if asked else sys.stderr)
        return 0 if asked else 2
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
    except (ValueError, FileNotFoundError, FileExistsError, TimeoutError) as exc:
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
    from otel_lambda_sim.view import load_truth, write_html

    target: Path = args.out or args.file.with_suffix(".html")
    if target.exists() and not args.force:
        raise FileExistsError(
            f"{target} exists; pass --force to overwrite it or --out to write elsewhere"
        )
    truth, notes = load_truth(args.file)
    out = write_html(args.file, target, truth=truth, notes=notes)
    if truth is None:
        print(f"no ground truth beside {args.file} (a .truth.json file): spans only")
    print(f"HTML: {out}")
    return 0


# Names whose values never reach the terminal (headers carry API keys).
_SECRET_MARKERS = ("HEADERS", "KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH")
# Shell variables a user may expect to reach the function, but which Lambda takes only from
# the function's configuration: named in a hint when set in the shell and not passed.
_NOT_PASSED_PREFIXES = ("AWS_LAMBDA_", "SIM_")


def _shown(name: str, value: str) -> str:
    return f"{name}=***" if any(m in name.upper() for m in _SECRET_MARKERS) else f"{name}={value}"


def _parse_env(items: Sequence[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--env {item!r}: expected NAME=VALUE")
        env[name] = value
    return env


def _threshold_in_effect(sandbox_env: dict[str, str], sources: dict[str, str]) -> tuple[str, str]:
    """The proactive threshold the sandboxes will use, and where it came from."""
    from ._core.config import OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS as var
    from ._core.config import Config

    if var in sandbox_env:
        return f"{var}={sandbox_env[var]} ms", f"from {sources.get(var, 'the scenario')}"
    return f"{Config().proactive_threshold_ms:.0f} ms", f"default; {var} not set"


def _simulate(args: argparse.Namespace) -> int:
    _require_simulator()
    from otel_lambda_sim.backend import BackendError, forward, parse_otlp_headers, probe, traces_url
    from otel_lambda_sim.fleet import Fleet
    from otel_lambda_sim.receiver import OtlpReceiver
    from otel_lambda_sim.scenarios import demo_scenario, describe_durations, load_scenario
    from otel_lambda_sim.summary import format_summary
    from otel_lambda_sim.view import load_jsonl, truth_path, write_html

    notes: list[str] = []
    threshold_ms = args.threshold_ms
    if args.command == "demo":
        import otel_lambda_demo as demo_pkg

        threshold_ms = DEMO_THRESHOLD_MS if threshold_ms is None else threshold_ms
        scenario = demo_scenario(threshold_ms)
        code_dir = Path(demo_pkg.__file__).parent
        handler = scenario.handler
    else:
        if args.scenario in BUILTIN_SCENARIOS:
            scenario = demo_scenario(DEMO_THRESHOLD_MS if threshold_ms is None else threshold_ms)
        else:
            scenario = load_scenario(args.scenario)
        handler = args.handler or scenario.handler
        code_dir = args.code_dir or Path(scenario.code_dir or ".")
        if args.scenario in BUILTIN_SCENARIOS and not (args.handler or args.code_dir):
            import otel_lambda_demo as demo_pkg  # the built-in scenario's own function

            code_dir = Path(demo_pkg.__file__).parent
        if not handler:
            raise ValueError("no handler: pass --handler module.function")
        if not code_dir.is_dir():
            raise FileNotFoundError(f"code directory {code_dir} does not exist")
    out_dir: Path = args.out or Path("otel-lambda-init-out")

    # The sandboxes' environment beyond Lambda's own: the scenario's, then the user's OTEL_*
    # settings (headers, service name...), then --env, then --threshold-ms.
    sources = {k: "the scenario" for k in scenario.env}
    env = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}
    sources.update({k: "your shell" for k in env})
    given = _parse_env(args.env)
    env.update(given)
    sources.update({k: "--env" for k in given})
    if threshold_ms is not None:
        env["OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS"] = f"{threshold_ms:g}"
        sources["OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS"] = (
            "--threshold-ms" if args.threshold_ms is not None else "the demo's default"
        )
    wrapper = env.get("AWS_LAMBDA_EXEC_WRAPPER") or scenario.env.get("AWS_LAMBDA_EXEC_WRAPPER")
    if wrapper and "/" not in wrapper:
        # Lambda's bootstrap execs a path; a bare name means "the one on my PATH".
        found = shutil.which(wrapper)
        if found is None:
            raise FileNotFoundError(f"AWS_LAMBDA_EXEC_WRAPPER={wrapper}: not found on PATH")
        env["AWS_LAMBDA_EXEC_WRAPPER"] = found
    backend_url = (
        args.endpoint
        or env.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
        or env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    )
    env.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
    env.setdefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    sandbox_env = {**scenario.env, **env}

    backend = None
    if backend_url:
        try:
            backend = traces_url(backend_url)
            if backend.note:
                print(f"note: {backend.note}", file=sys.stderr)
            headers = parse_otlp_headers(sandbox_env.get("OTEL_EXPORTER_OTLP_HEADERS"))
            headers.update(parse_otlp_headers(sandbox_env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")))
            probe(backend, headers)
        except BackendError as exc:
            print(f"otel-lambda-init: error: {exc}", file=sys.stderr)
            print("nothing was run", file=sys.stderr)
            return 2

    threshold, source = _threshold_in_effect(sandbox_env, sources)
    notes.append(f"proactive threshold in effect: {threshold} ({source})")
    if not threshold.endswith("=10000 ms") and threshold != "10000 ms":
        notes.append("Lambda's field heuristic is 10000 ms; a lower one keeps a local run short")
    progress = None if args.quiet else _progress
    started = time.monotonic()
    receiver = OtlpReceiver().start()
    try:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
        print(
            f"running scenario {scenario.name!r} with handler {handler} from {code_dir} "
            f"({len(scenario.arrival_times())} requests)",
            file=sys.stderr,
        )
        print(f"  {notes[0]}", file=sys.stderr)
        for line in describe_durations(scenario):
            print(f"  {line}", file=sys.stderr)
        shown = sorted(_shown(k, v) for k, v in sandbox_env.items())
        print(
            "  environment set in each sandbox besides Lambda's own (--env NAME=VALUE adds): "
            + (", ".join(shown) or "none"),
            file=sys.stderr,
        )
        for name in sorted(os.environ):
            if name.startswith(_NOT_PASSED_PREFIXES) and name not in sandbox_env:
                print(
                    f"  note: {name} is set in your shell but not passed to the sandboxes "
                    f"(only OTEL_* are); pass it with --env {name}=...",
                    file=sys.stderr,
                )
        log_dir = out_dir / "logs"
        for old in log_dir.glob("sbx*.log"):
            old.unlink()
        result = Fleet(
            scenario,
            handler=handler,
            code_dir=code_dir,
            env=env,
            progress=progress,
            log_dir=log_dir,
        ).run()
        truth = result.truth_summary()
        failures = _init_failures(result)
        _wait_quiet(receiver)
        out_dir.mkdir(parents=True, exist_ok=True)
        jsonl = receiver.to_jsonl(out_dir / f"{scenario.name}.jsonl")
        truth_path(jsonl).write_text(
            json.dumps({"truth": truth, "notes": notes}, indent=2), encoding="utf-8"
        )
        html = write_html(jsonl, out_dir / f"{scenario.name}.html", truth=truth, notes=notes)
        spans = load_jsonl(jsonl)
        print(format_summary(_summarize(spans), truth, notes))
        print(f"OTLP JSON lines: {jsonl}")
        print(f"HTML view:       {html}")
        print(f"sandbox logs:    {log_dir}/ (one file per sandbox: the function's output)")
        problems = _log_problems(result)
        for line in problems:
            print(line, file=sys.stderr)
        code = 0
        if not spans:
            code = 1
            print(
                "otel-lambda-init: error: no spans arrived. Is the handler instrumented? "
                "Decorate it (@otel_lambda_init.instrument_handler) or run it under the exec "
                "wrapper: --env AWS_LAMBDA_EXEC_WRAPPER=otel-lambda-init-wrapper",
                file=sys.stderr,
            )
        if backend is not None:
            report = forward(receiver.requests, backend)
            for line in report.lines():
                print(line)
            if report.accepted == 0:
                code = 1
                print(
                    f"otel-lambda-init: error: the backend at {backend.traces} accepted "
                    "nothing from this run",
                    file=sys.stderr,
                )
            elif report.refused:
                print(
                    "otel-lambda-init: warning: the backend refused part of the run",
                    file=sys.stderr,
                )
        print(f"wall time {time.monotonic() - started:.1f}s")
    finally:
        receiver.stop()
    if failures:
        for line in failures:
            print(line, file=sys.stderr)
        return 1
    return code


# What, in a sandbox's output, the user should see without opening the log: exporter failures
# (the SDK logs them), our own warnings, the runtime's errors and tracebacks.
_PROBLEM_MARKERS = (
    "Failed to export",
    "Transient error",
    "otel-lambda-init:",
    "[ERROR]",
    "Traceback",
)


def _log_problems(result: Any, limit: int = 12) -> list[str]:
    """Distinct problem lines from every sandbox's log, with how often each appeared."""
    seen: dict[str, list[str]] = {}
    for sb in result.sandboxes:
        if sb.log_path is None or not sb.log_path.exists():
            continue
        for line in sb.log_path.read_text(errors="replace").splitlines():
            if any(m in line for m in _PROBLEM_MARKERS):
                seen.setdefault(line.strip()[:300], []).append(sb.name)
    if not seen:
        return []
    lines = [f"from the sandbox logs ({len(seen)} distinct problem lines):"]
    for text, where in list(seen.items())[:limit]:
        lines.append(f"  [{', '.join(sorted(set(where)))}] {text}")
    if len(seen) > limit:
        lines.append(f"  ... {len(seen) - limit} more in the logs")
    return lines


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
