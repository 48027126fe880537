"""Helpers for end-to-end tests: real awslambdaric sandboxes exporting to a real receiver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from otel_lambda_sim.front_end import FrontEnd
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


def refuse_registration(sandbox: Sandbox) -> None:
    """The Extensions API answers every register with a 500 (a platform fault); call it after
    ``sandbox.api.start()`` and before ``sandbox.start()``."""
    sandbox.api.faults.register = lambda status, body, headers: (
        500,
        {"errorType": "Extension.Unknown", "errorMessage": "try later"},
        {},
    )


def sent_for_this_sandbox(sandbox: Sandbox, event: dict[str, Any] | None = None) -> Any:
    """The event as an HTTP API trigger delivers the request Lambda created this sandbox for:
    stamped (``requestContext.timeEpoch``) when it was received, before INIT. A real cold
    start carries that evidence, so its verdict does not hang on how fast a busy host hands
    the pending request over (docs/verdicts.md, ``classified_by=event-time``)."""
    assert sandbox.created_ns, "start the sandbox first: the request is what created it"
    return FrontEnd("http-api").stamp(event or {}, sandbox.created_ns)


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


def span_by_id(spans: list[ReceivedSpan], span_id: str | None) -> ReceivedSpan | None:
    return next((s for s in spans if s.span_id == span_id), None)


def outside_parent(spans: list[ReceivedSpan]) -> list[tuple[str, str]]:
    """(child, parent) names of every span not within its parent's time range, for each
    parent exported in the same trace (remote parents are the caller's, not ours)."""
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    bad = []
    for span in spans:
        parent = by_id.get((span.trace_id, span.parent_span_id or ""))
        if parent is not None and not (
            parent.start_ns <= span.start_ns and span.end_ns <= parent.end_ns
        ):
            bad.append((span.name, parent.name))
    return bad


def assert_cold_start_shape(
    spans: list[ReceivedSpan], init: ReceivedSpan, invocation: ReceivedSpan
) -> ReceivedSpan:
    """The shape of an INIT in its first invocation's trace without a remote parent: a root
    from INIT start to invocation end holding the init span and the invocation span."""
    root = span_by_id(spans, invocation.parent_span_id)
    assert root is not None, "the invocation span has no exported parent"
    assert root.parent_span_id in (None, "")
    assert root.name.split(" ", 2)[:2] in (["cold", "start"], ["first", "invocation"])
    assert init.parent_span_id == root.span_id and init.trace_id == root.trace_id
    assert root.start_ns == init.start_ns and root.end_ns >= invocation.end_ns
    assert not outside_parent(spans)
    return root


def run_demo_fleet(env: dict[str, str], **scenario: Any) -> Any:
    """Run a simulator scenario (Scenario fields as keywords) with the bundled demo function;
    returns the fleet's ground truth (FleetResult)."""
    import otel_lambda_demo
    from otel_lambda_sim import fleet
    from otel_lambda_sim.scenarios import Scenario

    demo = Path(otel_lambda_demo.__file__).parent
    return fleet.Fleet(Scenario(**scenario), code_dir=demo, env=env).run()


def installed_wrapper() -> str:
    """The exec wrapper pip put next to this interpreter, as a user's AWS_LAMBDA_EXEC_WRAPPER."""
    import shutil
    import sys

    path = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert path, "otel-lambda-init-wrapper is not installed next to the interpreter"
    return path


def dev_layer(tmp_path: Path) -> Path:
    """A layer laid out like the built one (wrapper at the root, package under python/),
    pointing at this checkout, so the wrapper finds its early hook as it does in /opt."""
    import shutil

    src = Path(__file__).resolve().parents[1] / "src"
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "otel_lambda_init").symlink_to(src / "otel_lambda_init")
    shutil.copy(src / "otel_lambda_init" / "auto" / "otel-lambda-init-wrapper", layer / "w")
    (layer / "w").rename(layer / "otel-lambda-init")
    return layer
