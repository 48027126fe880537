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
from .function import FunctionConfig, default_execution_env
from .layers import unpack_layers
from .scenario_keys import SCENARIO_KEYS, check_values, keys_table

__all__ = [
    "SCENARIO_KEYS",
    "Scenario",
    "default_execution_env",
    "demo_scenario",
    "describe_durations",
    "keys_table",
    "load_scenario",
]

# Env vars the bundled demo and test handlers honour, so a scenario can set INIT and handler
# durations. Any other handler simply ignores them; the events stay as the user wrote them.
INIT_MS_ENV = "SIM_INIT_MS"
HANDLER_MS_ENV = "SIM_HANDLER_MS"


@dataclass
class Scenario:
    """Everything a fleet run needs; unknown keys in a file are an error, said by name."""

    name: str = "scenario"
    handler: str | None = None
    code_dir: str | None = None
    layers: list[str] = field(default_factory=list)
    function_name: str = "demo-fn"
    initialization_type: str = "on-demand"
    execution_env: str = field(default_factory=default_execution_env)
    memory_mb: int = 128
    init_ms: float | None = None
    handler_ms: float | None = None
    init_timeout_s: float = 10.0
    function_timeout_s: float = 3.0
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
    # The trigger in front (front_end.py): stamps each event at arrival, its clock skewed.
    trigger: str | None = None
    front_end_skew_ms: float = 0.0

    def arrival_times(self) -> list[float]:
        """Explicit arrivals, or evenly spaced ones at rate_per_s for duration_s."""
        if self.arrivals:
            return sorted(float(t) for t in self.arrivals)
        if self.rate_per_s and self.duration_s:
            n = int(self.rate_per_s * self.duration_s)
            return [i / self.rate_per_s for i in range(n)]
        return []

    def event_for(self, index: int) -> Any:
        """The index-th request's event (cycled), exactly as the scenario wrote it."""
        return self.events[index % len(self.events)] if self.events else {}

    def sandbox_env(self) -> dict[str, str]:
        """The simulator's own controls (durations, when given), then the function's env."""
        env = {}
        if self.init_ms is not None:
            env[INIT_MS_ENV] = f"{self.init_ms:g}"
        if self.handler_ms is not None:
            env[HANDLER_MS_ENV] = f"{self.handler_ms:g}"
        return {**env, **{k: str(v) for k, v in self.env.items()}}

    def function_config(
        self,
        handler: str | None = None,
        code_dir: Path | str | None = None,
        env: dict[str, str] | None = None,
        layers: list[str] | None = None,
    ) -> FunctionConfig:
        """The function every sandbox of the run shares; arguments override the scenario's
        (layers given here come after the scenario's, as later layers win in /opt)."""
        handler = handler or self.handler
        if not handler:
            raise ValueError("no handler: give one in the scenario or as --handler")
        code = Path(code_dir or self.code_dir or ".")
        settings: dict[str, Any] = {
            "function_name": self.function_name,
            "memory_mb": self.memory_mb,
            "function_timeout_s": self.function_timeout_s,
            "init_timeout_s": self.init_timeout_s,
            "initialization_type": self.initialization_type,
            "execution_env": self.execution_env,
            "env": {**self.sandbox_env(), **(env or {})},
            "layer_dirs": unpack_layers([*self.layers, *(layers or [])]),
        }
        if self.web_adapter:
            from . import web_app

            adapter = None if self.web_adapter == "LWA_BIN" else self.web_adapter
            function = web_app.function_config(handler, code, adapter, **settings)
            if self.extension_init_ms is not None and function.extensions_dir is not None:
                slow_extension.install(function.extensions_dir, self.extension_init_ms)
            return function
        extensions_dir = None
        if self.extension_init_ms is not None:
            extensions_dir = Path(tempfile.mkdtemp(prefix="otel-lambda-ext-")) / "extensions"
            slow_extension.install(extensions_dir, self.extension_init_ms)
        return FunctionConfig.of(handler, code, extensions_dir=extensions_dir, **settings)

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
                "described in docs/simulator.md, 'Scenario keys')"
            )
        return cls(**check_values(data))

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every key's default, as the keys table shows it."""
        return asdict(cls())


def describe_durations(scenario: Scenario) -> list[str]:
    """What init_ms and handler_ms really do, said when a scenario sets them (they are hints
    for the handler, not timers)."""
    given = [
        f"{key}={value:g} as {env}"
        for key, value, env in (
            ("init_ms", scenario.init_ms, INIT_MS_ENV),
            ("handler_ms", scenario.handler_ms, HANDLER_MS_ENV),
        )
        if value is not None
    ]
    if not given:
        return []
    return [
        f"{' and '.join(given)} in each sandbox: only a handler that reads them (the demo "
        "does) takes that long; the simulator imposes no duration"
    ]


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario from YAML (.yaml/.yml, needs PyYAML) or JSON; code_dir and layers are
    relative to the file, so a scenario runs from any directory."""
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
    scenario = Scenario.from_dict(data)
    base = p.resolve().parent
    if scenario.code_dir is not None:
        scenario.code_dir = str((base / scenario.code_dir).resolve())
    scenario.layers = [str((base / layer).resolve()) for layer in scenario.layers]
    return scenario


def demo_scenario(proactive_threshold_ms: float | None = None) -> Scenario:
    """Cold start, a proactive initialization and warm reuse, in about seven seconds.

    A (t=0) waits for sandbox 1's INIT: cold. B and C arrive together at t=3: B takes the idle
    sandbox 1, C finds none idle and starts sandbox 2, but sandbox 1 frees after B's 400 ms,
    before sandbox 2's INIT (600 ms and the interpreter's start) ends, and takes C (eager
    assignment): nobody waits for sandbox 2. D (t=5.5) is sandbox 2's first invocation, seconds
    after its INIT ended: proactive by the idle gap. E reuses a warm sandbox. Lambda's 10 s
    threshold stays in force, so a slow INIT on a busy machine cannot turn A proactive.
    """
    env = {}
    if proactive_threshold_ms is not None:
        env["OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS"] = f"{proactive_threshold_ms:g}"
    return Scenario(
        name="demo",
        description="cold start, proactive initialization (eager assignment), warm reuse",
        handler="app.handler",
        init_ms=600.0,
        handler_ms=400.0,
        concurrency=4,
        arrivals=[0.0, 3.0, 3.0, 5.5, 6.0],
        events=[{"path": f"/orders/{n}"} for n in range(1, 6)],
        env=env,
        drain_s=0.5,
    )
