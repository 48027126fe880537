"""`otel-lambda-init demo` and `simulate`: one function per step, from the scenario chosen to
the summary, the files written and the exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._environment import SandboxEnv, build_env, shown, threshold_in_effect
from ._errors import RunFailed, UsageError
from ._extra import require_simulator
from ._report import init_failure_line, init_failures, log_problems, wait_quiet

__all__ = ["simulate"]

BUILTIN_SCENARIOS = ("demo",)
# Shell variables a user may expect to reach the function, but which Lambda takes only from
# the function's configuration: named in a hint when set in the shell and not passed.
_NOT_PASSED_PREFIXES = ("AWS_LAMBDA_", "SIM_")


@dataclass
class _Plan:
    """What will run: the scenario, the function, the environment, and notes for the user."""

    scenario: Any
    handler: str
    code_dir: Path
    out_dir: Path
    sandbox: SandboxEnv
    notes: list[str] = field(default_factory=list)
    threshold_ms: float = 0.0
    log_dir: Path = Path()


def _demo_code_dir() -> Path:
    import otel_lambda_demo as demo_pkg  # the built-in scenario's own function

    return Path(demo_pkg.__file__).parent


def _choose_function(args: argparse.Namespace) -> tuple[Any, str, Path, float | None, str]:
    """The scenario, handler, code directory, and the threshold option with its origin."""
    from otel_lambda_sim.scenarios import demo_scenario, load_scenario

    threshold_ms = args.threshold_ms
    origin = "--threshold-ms"
    builtin = args.command == "demo" or args.scenario in BUILTIN_SCENARIOS
    if args.command == "demo":
        scenario = demo_scenario(threshold_ms)
        return scenario, str(scenario.handler), _demo_code_dir(), threshold_ms, origin
    if builtin:
        scenario = demo_scenario(threshold_ms)
    else:
        try:
            scenario = load_scenario(args.scenario)
        except (ValueError, OSError) as exc:
            raise UsageError(f"scenario {args.scenario}: {exc}") from exc
    handler = args.handler or scenario.handler
    code_dir = args.code_dir or Path(scenario.code_dir or ".")
    if builtin and not (args.handler or args.code_dir):
        code_dir = _demo_code_dir()
    if not handler:
        raise UsageError("no handler: pass --handler module.function")
    if not code_dir.is_dir():
        raise UsageError(f"code directory {code_dir} does not exist")
    return scenario, handler, code_dir, threshold_ms, origin


def _plan(args: argparse.Namespace) -> _Plan:
    scenario, handler, code_dir, threshold_ms, origin = _choose_function(args)
    sandbox = build_env(scenario.env, args.env, threshold_ms, origin, args.endpoint)
    plan = _Plan(scenario, handler, code_dir, args.out or Path("otel-lambda-init-out"), sandbox)
    plan.log_dir = _log_dir(plan)
    plan.threshold_ms, line = threshold_in_effect(sandbox.merged, sandbox.sources)
    plan.notes.append(f"proactive threshold in effect: {line}")
    if plan.threshold_ms != 10_000.0:
        plan.notes.append(
            "Lambda's field heuristic is 10000 ms; a lower one keeps a local run short"
        )
    return plan


def _connect_backend(plan: _Plan) -> Any:
    """The backend's traces URL, probed before anything runs; None without a backend."""
    from otel_lambda_sim.backend import BackendError, parse_otlp_headers, probe, traces_url

    url = plan.sandbox.backend_url
    if not url:
        return None
    merged = plan.sandbox.merged
    try:
        backend = traces_url(url)
        if backend.note:
            print(f"note: {backend.note}", file=sys.stderr)
        headers = parse_otlp_headers(merged.get("OTEL_EXPORTER_OTLP_HEADERS"))
        headers.update(parse_otlp_headers(merged.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")))
        probe(backend, headers)
    except BackendError as exc:
        raise UsageError(
            f"{exc} (the endpoint came from {plan.sandbox.backend_origin}); nothing was run"
        ) from exc
    return backend


def _announce(plan: _Plan) -> None:
    """What is about to run, and what the sandboxes get besides Lambda's own environment."""
    from otel_lambda_sim.scenarios import describe_durations

    sc = plan.scenario
    say = [
        f"running scenario {sc.name!r} with handler {plan.handler} from {plan.code_dir} "
        f"({len(sc.arrival_times())} requests)",
        f"  {plan.notes[0]}",
        *(f"  {line}" for line in describe_durations(sc)),
    ]
    merged = plan.sandbox.merged
    listed = ", ".join(sorted(shown(k, v) for k, v in merged.items())) or "none"
    say.append(
        f"  environment set in each sandbox besides Lambda's own (--env NAME=VALUE adds): {listed}"
    )
    for name in sorted(os.environ):
        if name.startswith(_NOT_PASSED_PREFIXES) and name not in merged:
            say.append(
                f"  note: {name} is set in your shell but not passed to the sandboxes "
                f"(only OTEL_* are); pass it with --env {name}=..."
            )
    print("\n".join(say), file=sys.stderr)


def _log_dir(plan: _Plan) -> Path:
    """A directory of this run's own: a later run never overwrites an earlier run's logs."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = plan.out_dir.resolve() / "logs" / f"{plan.scenario.name}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _run_fleet(plan: _Plan, receiver: Any, args: argparse.Namespace) -> Any:
    """Replay the scenario; the first failed INIT stops it (unless --keep-going) with one line."""
    from otel_lambda_sim.fleet import Fleet, InitFailed

    env = {**plan.sandbox.env, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    try:
        fleet = Fleet(
            plan.scenario,
            handler=plan.handler,
            code_dir=plan.code_dir,
            env=env,
            progress=None if args.quiet else _progress,
            log_dir=plan.log_dir,
            layers=[str(Path(layer).resolve()) for layer in args.layer],
            stop_on_init_failure=not args.keep_going,
        )
    except ValueError as exc:  # a layer that is neither a zip nor a directory
        raise UsageError(str(exc)) from exc
    try:
        return fleet.run()
    except InitFailed as exc:
        raise RunFailed(init_failure_line(exc.record, plan.handler, plan.code_dir)) from exc
    except TimeoutError as exc:
        raise RunFailed(str(exc)) from exc


def _write_outputs(plan: _Plan, receiver: Any, result: Any) -> tuple[Path, Path]:
    """OTLP JSON lines, the ground truth beside them (totals and per request), the HTML view."""
    from otel_lambda_sim.view import truth_path, write_html

    wait_quiet(receiver)
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    jsonl = receiver.to_jsonl(plan.out_dir / f"{plan.scenario.name}.jsonl")
    truth, requests = result.truth_summary(), result.request_truth()
    record = {"truth": truth, "notes": plan.notes, "requests": requests}
    truth_path(jsonl).write_text(json.dumps(record, indent=2), encoding="utf-8")
    html_path = plan.out_dir / f"{plan.scenario.name}.html"
    html = write_html(jsonl, html_path, truth=truth, notes=plan.notes, requests=requests)
    return jsonl, html


def _forward(receiver: Any, backend: Any) -> int:
    """Send the run to the backend; exit 1 when it accepted nothing."""
    from otel_lambda_sim.backend import forward

    report = forward(receiver.requests, backend)
    for line in report.lines():
        print(line)
    if report.accepted == 0:
        print(
            f"otel-lambda-init: error: the backend at {backend.traces} accepted "
            "nothing from this run",
            file=sys.stderr,
        )
        return 1
    if report.refused:
        print("otel-lambda-init: warning: the backend refused part of the run", file=sys.stderr)
    return 0


_NO_SPANS = (
    "otel-lambda-init: error: no spans arrived. Is the handler instrumented? "
    "Decorate it (@otel_lambda_init.instrument_handler) or run it under the exec "
    "wrapper: --env AWS_LAMBDA_EXEC_WRAPPER=otel-lambda-init-wrapper"
)


def _report(plan: _Plan, result: Any, receiver: Any, backend: Any) -> int:
    """Summary, files, problems from the logs, the backend's answer; the exit code."""
    from otel_lambda_sim.summary import format_summary, summarize
    from otel_lambda_sim.view import load_jsonl

    truth = result.truth_summary()
    jsonl, html = _write_outputs(plan, receiver, result)
    spans = load_jsonl(jsonl)
    print(format_summary(summarize(spans), truth, plan.notes))
    print(f"OTLP JSON lines: {jsonl}")
    print(f"HTML view:       {html}")
    print(f"sandbox logs:    {plan.log_dir}/ (one file per sandbox: the function's output)")
    for line in log_problems(result):
        print(line, file=sys.stderr)
    code = 0
    if not spans:
        code = 1
        print(_NO_SPANS, file=sys.stderr)
    if backend is not None:
        code = max(code, _forward(receiver, backend))
    return code


def simulate(args: argparse.Namespace) -> int:
    """Plan, probe the backend, run the fleet against a local receiver, report."""
    require_simulator()
    from otel_lambda_sim.receiver import OtlpReceiver

    plan = _plan(args)
    backend = _connect_backend(plan)
    started = time.monotonic()
    receiver = OtlpReceiver().start()
    try:
        _announce(plan)
        result = _run_fleet(plan, receiver, args)
        code = _report(plan, result, receiver, backend)
        print(f"wall time {time.monotonic() - started:.1f}s")
    finally:
        receiver.stop()
    failures = init_failures(result)
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else code


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
