"""Declarative scenarios: when requests arrive and how the fleet of sandboxes behaves.

A scenario is plain data (a dataclass, or the same keys in YAML/JSON) so a test or a user can
state a timeline (cold start, eager assignment, deploy, rotation) without writing fleet code.
Times are seconds from the start of the run; durations are milliseconds.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from . import slow_extension
from .function import FunctionConfig

__all__ = ["SCENARIO_KEYS", "Scenario", "demo_scenario", "describe_durations", "load_scenario"]

# Env vars the bundled demo and test handlers honour, so a scenario can set INIT and handler
# durations. Any other handler simply ignores them.
INIT_MS_ENV = "SIM_INIT_MS"
WORK_MS_KEY = "work_ms"


@dataclass
class Scenario:
    """Everything a fleet run needs; unknown keys in a file are an error, said by name."""

    name: str = "scenario"
    handler: str | None = None
    code_dir: str | None = None
    function_name: str = "demo-fn"
    initialization_type: str = "on-demand"
    execution_env: str = "AWS_Lambda_python3.12"
    memory_mb: int = 128
    init_ms: float = 200.0
    handler_ms: float = 50.0
    init_timeout_s: float = 10.0
    function_timeout_s: float = 30.0
    concurrency: int = 10
    eager_assignment: bool = True
    idle_expiry_s: float | None = None
    prewarm: int = 0
    arrivals: list[float] = field(default_factory=list)
    rate_per_s: float | None = None
    duration_s: float | None = None
    events: list[Any] = field(default_factory=list)
    deploys: list[float] = field(default_factory=list)
    rotations: list[float] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    drain_s: float = 0.5
    description: str = ""
    # An external extension whose INIT takes this long (ms), ending after the runtime's.
    extension_init_ms: float | None = None
    # A web app behind the Lambda Web Adapter (web_app.py): the adapter binary, or "LWA_BIN"
    # for that variable's; the handler is then the app's run.sh.
    web_adapter: str | None = None

    def arrival_times(self) -> list[float]:
        """Explicit arrivals, or evenly spaced ones at rate_per_s for duration_s."""
        if self.arrivals:
            return sorted(float(t) for t in self.arrivals)
        if self.rate_per_s and self.duration_s:
            n = int(self.rate_per_s * self.duration_s)
            return [i / self.rate_per_s for i in range(n)]
        return []

    def event_for(self, index: int) -> Any:
        """The index-th request's event (cycled), with the scenario's handler duration added."""
        base = self.events[index % len(self.events)] if self.events else {}
        if isinstance(base, dict):
            event = {WORK_MS_KEY: self.handler_ms, **base}
            event.setdefault("request_index", index)
            return event
        return base

    def sandbox_env(self) -> dict[str, str]:
        return {INIT_MS_ENV: str(self.init_ms), **{k: str(v) for k, v in self.env.items()}}

    def function_config(
        self,
        handler: str | None = None,
        code_dir: Path | str | None = None,
        env: dict[str, str] | None = None,
    ) -> FunctionConfig:
        """The function every sandbox of the run shares; arguments override the scenario's."""
        handler = handler or self.handler
        if not handler:
            raise ValueError("no handler: give one in the scenario or as --handler")
        if self.web_adapter:
            from . import web_app

            function = web_app.function_config(
                handler,
                Path(code_dir or self.code_dir or "."),
                None if self.web_adapter == "LWA_BIN" else self.web_adapter,
                function_name=self.function_name,
                memory_mb=self.memory_mb,
                function_timeout_s=self.function_timeout_s,
                init_timeout_s=self.init_timeout_s,
                initialization_type=self.initialization_type,
                execution_env=self.execution_env,
                env={**self.sandbox_env(), **(env or {})},
            )
            if self.extension_init_ms is not None and function.extensions_dir is not None:
                slow_extension.install(function.extensions_dir, self.extension_init_ms)
            return function
        extensions_dir = None
        if self.extension_init_ms is not None:
            extensions_dir = Path(tempfile.mkdtemp(prefix="otel-lambda-ext-")) / "extensions"
            slow_extension.install(extensions_dir, self.extension_init_ms)
        return FunctionConfig(
            handler,
            Path(code_dir or self.code_dir or "."),
            function_name=self.function_name,
            memory_mb=self.memory_mb,
            function_timeout_s=self.function_timeout_s,
            init_timeout_s=self.init_timeout_s,
            initialization_type=self.initialization_type,
            execution_env=self.execution_env,
            env={**self.sandbox_env(), **(env or {})},
            extensions_dir=extensions_dir,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown scenario keys {unknown}; accepted keys: {sorted(known)} (each is "
                "described in the README's 'Scenario files' and examples/scenarios/)"
            )
        return cls(**data)


# Every key a scenario file accepts, and what it does (README "Scenario files" mirrors it; a
# test checks both against the dataclass).
SCENARIO_KEYS: dict[str, str] = {
    "name": "the run's name: output files are NAME.jsonl/.html (default: the file's stem)",
    "description": "free text",
    "handler": "module.function (--handler overrides)",
    "code_dir": "the function's code directory, relative to where you run (--code-dir "
    "overrides; default .)",
    "function_name": "AWS_LAMBDA_FUNCTION_NAME (default demo-fn)",
    "initialization_type": "AWS_LAMBDA_INITIALIZATION_TYPE: on-demand, provisioned-concurrency, "
    "snap-start",
    "execution_env": "AWS_EXECUTION_ENV (default AWS_Lambda_python3.12; 3.12+ lets a SIGTERM "
    "handler run at shutdown)",
    "memory_mb": "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "extension_init_ms": "an external extension (in /opt/extensions) whose INIT takes this "
    "long and may end after the runtime's first next: a real cold start's idle gap then "
    "includes its tail (the OpenTelemetry collector layer and the Datadog extension do this)",
    "init_ms": "sets SIM_INIT_MS in each sandbox. The simulator does not sleep for you: only a "
    "handler that reads SIM_INIT_MS (the demo does) spends that long in INIT",
    "handler_ms": "added to each dict event as work_ms. Only a handler that reads "
    "event['work_ms'] (the demo does) takes that long",
    "init_timeout_s": "Lambda's INIT cap (10 s); lower it to see a timeout and re-run quickly",
    "function_timeout_s": "the function timeout; the deadline each invocation gets",
    "concurrency": "the most sandboxes alive at once",
    "eager_assignment": "a pending request goes to whichever sandbox frees first (Lambda's "
    "behaviour, the source of proactive initializations); false binds it to the new sandbox",
    "idle_expiry_s": "shut a sandbox down after this long idle (default: never during the run)",
    "prewarm": "sandboxes started at t=0 before any request (and on each deploy)",
    "arrivals": "request arrival times, seconds from the start",
    "rate_per_s": "with duration_s: evenly spaced arrivals instead of a list",
    "duration_s": "with rate_per_s",
    "events": "request payloads, cycled over the requests",
    "deploys": "times (s) of a new version: every sandbox retires, new ones start unasked",
    "rotations": "times (s) Lambda replaces its oldest sandbox with a fresh one",
    "env": "the function's environment variables (e.g. OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS, "
    "AWS_LAMBDA_EXEC_WRAPPER); --env and your shell's OTEL_* variables win",
    "drain_s": "seconds to wait after the last response before spinning sandboxes down",
}


def describe_durations(scenario: Scenario) -> list[str]:
    """What init_ms and handler_ms really do, said on every run (they are hints, not timers)."""
    return [
        f"init_ms={scenario.init_ms:g} is given as SIM_INIT_MS and handler_ms="
        f"{scenario.handler_ms:g} as each event's work_ms: only a handler that reads them "
        "(the demo does) takes that long; the simulator imposes no duration"
    ]


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario from YAML (.yaml/.yml, needs PyYAML) or JSON."""
    p = Path(path)
    text = p.read_text()
    if p.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{p}: a scenario is a mapping of keys, got {type(data).__name__}")
    data.setdefault("name", p.stem)
    return Scenario.from_dict(data)


def demo_scenario(proactive_threshold_ms: float = 1500.0) -> Scenario:
    """Cold start, an eager-assignment proactive init, and warm reuse, in about five seconds.

    A (t=0) waits for sandbox 1's INIT. B (t=0.8) starts sandbox 2, but sandbox 1 frees first
    and takes B (eager assignment), so nobody waits for sandbox 2's INIT. C (t=3.0) is sandbox
    2's first invocation, 2.2 s after its INIT started: above the (scaled) threshold, so
    proactive. D and E reuse warm sandboxes.
    """
    return Scenario(
        name="demo",
        description=(
            "cold start, proactive initialization (eager assignment), warm reuse; "
            f"proactive threshold scaled to {proactive_threshold_ms:.0f} ms"
        ),
        handler="app.handler",
        init_ms=600.0,
        handler_ms=400.0,
        concurrency=4,
        arrivals=[0.0, 0.8, 3.0, 3.2, 3.8],
        events=[
            {"path": "/orders/1"},
            {"path": "/orders/2"},
            {"path": "/orders/3"},
            {"path": "/orders/4"},
            {"path": "/orders/5"},
        ],
        env={"OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS": str(int(proactive_threshold_ms))},
        drain_s=0.5,
    )
