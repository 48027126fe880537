"""Settings and habits real functions have (issue 25): the standard off switch, sampling
turned off, handlers that fork, concurrency libraries that patch the stdlib."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lambda_harness import running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

SAFETY = Path(__file__).parent.parent / "safety_handlers"


def installed_wrapper() -> str:
    path = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert path, "otel-lambda-init-wrapper is not installed next to the interpreter"
    return path


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as r:
        yield r


def _footprint(receiver: OtlpReceiver, handler: str, env: dict[str, str]) -> tuple[Any, Any]:
    with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        result = sandbox.invoke({}, timeout=30)
        extensions = [e.name for e in sandbox.api.extensions]
    assert result.status == "success", result.payload
    return result.payload, extensions


# Item 1: OTEL_SDK_DISABLED=true, the standard off switch, on both routes.
@pytest.mark.parametrize(
    "route, handler",
    [("wrapper", "plain_footprint_app.handler"), ("manual", "footprint_app.handler")],
)
def test_otel_sdk_disabled_means_no_extension_thread_hook_or_import_tracer(
    receiver: OtlpReceiver, route: str, handler: str
) -> None:
    baseline, none = _footprint(receiver, "plain_footprint_app.handler", {})
    assert none == []
    env = {"OTEL_SDK_DISABLED": "true"}
    if route == "wrapper":
        env["AWS_LAMBDA_EXEC_WRAPPER"] = installed_wrapper()
    ours, extensions = _footprint(receiver, handler, env)
    assert extensions == []
    assert ours["threads"] == baseline["threads"]
    assert ours["finders"] == []
    assert ours["hooked"] is False
    if route == "wrapper":
        assert ours["ours"] == []  # the wrapper execs the runtime as if we were not there
    assert receiver.spans() == []  # the sandboxes have exited: any export has arrived


def test_otel_sdk_disabled_on_the_manual_route_imports_no_opentelemetry(
    receiver: OtlpReceiver,
) -> None:
    env = {"OTEL_SDK_DISABLED": "true"}
    ours, _ = _footprint(receiver, "footprint_app.handler", env)
    assert ours["ours"] == ["otel_lambda_init", *ours["ours"][1:]]
    assert not [
        m for m in ours["ours"] if m.startswith(("otel_lambda_init._sdk", "otel_lambda_init._api"))
    ]
    assert ours["opentelemetry"] is False
