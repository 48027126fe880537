"""Helpers for end-to-end tests: real awslambdaric sandboxes exporting to a real receiver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from otel_lambda_init.simulator.receiver import OtlpReceiver, ReceivedSpan
from otel_lambda_init.simulator.sandbox import Sandbox

HANDLERS = Path(__file__).parent / "handlers"


def otel_env(receiver: OtlpReceiver, **extra: str) -> dict[str, str]:
    """The variables a user sets to send spans to a collector, plus fast batching."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    env.update(extra)
    return env


@contextmanager
def running_sandbox(
    handler: str, receiver: OtlpReceiver, *, code_dir: Path = HANDLERS, **kwargs: Any
) -> Iterator[Sandbox]:
    env = otel_env(receiver, **kwargs.pop("env", {}))
    with Sandbox(handler, code_dir, env=env, **kwargs) as sandbox:
        sandbox.start()
        yield sandbox


def by_name(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.name == name]


def init_spans(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return [s for s in spans if s.name.startswith("init ")]


def invocation_spans(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return [s for s in spans if "faas.invocation_id" in s.attributes]


def for_sandbox(spans: list[ReceivedSpan], sandbox: Sandbox) -> list[ReceivedSpan]:
    """Spans exported by one sandbox (its log stream is the resource's faas.instance)."""
    stream = sandbox.log_stream_name
    return [s for s in spans if s.resource.get("faas.instance", stream) == stream]


def run_demo_fleet(env: dict[str, str], **scenario: Any) -> Any:
    """Run a simulator scenario (Scenario fields as keywords) with the bundled demo function;
    returns the fleet's ground truth (FleetResult)."""
    from otel_lambda_init.simulator import fleet
    from otel_lambda_init.simulator.scenarios import Scenario

    demo = Path(fleet.__file__).parent / "demo"
    return fleet.Fleet(Scenario(**scenario), code_dir=demo, env=env).run()
