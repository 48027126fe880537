"""Helpers for end-to-end tests: real awslambdaric sandboxes exporting to a real receiver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan
from otel_lambda_sim.sandbox import Sandbox

HANDLERS = Path(__file__).parent / "handlers"


def otel_env(receiver: OtlpReceiver, **extra: str) -> dict[str, str]:
    """The variables a user sets to send spans to a collector (no protocol, no batch delay:
    the package must deliver without them)."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
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
