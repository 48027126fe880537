"""The sandbox-local state file is a hint, never trusted: a new sandbox that shares /tmp and
the log stream name with an old one starts fresh, and hostile or corrupt files are ignored
with one log line. Real awslambdaric against the simulator, spans over OTLP/HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from lambda_harness import HANDLERS, init_spans, invocation_spans, otel_env

from otel_lambda_init._core.history import sandbox_key
from otel_lambda_init._probes.process import _start_ticks
from otel_lambda_init._probes.state_file import StateFile, state_path
from otel_lambda_sim.receiver import OtlpReceiver
from otel_lambda_sim.sandbox import Sandbox

HANDLER = "manual_app.handler"
RIE_STREAM = "$LATEST"  # what RIE sets for every run


def serve_once(receiver: OtlpReceiver, tmp: Path, prepare: Any = None) -> tuple[Sandbox, Any]:
    """One sandbox with TMPDIR=tmp and RIE's log stream name, one invocation; returns its
    spans. ``prepare(path)`` plants something at the state file path first."""
    env = otel_env(receiver, TMPDIR=str(tmp), AWS_LAMBDA_LOG_STREAM_NAME=RIE_STREAM)
    receiver.clear()
    with Sandbox(HANDLER, HANDLERS, env=env) as sandbox:
        sandbox.api.start()
        if prepare is not None:  # where this sandbox keeps it, and under the bare stream name
            for key in {runtime_key(sandbox), RIE_STREAM}:
                path = Path(state_path(key, str(tmp)))
                if not os.path.lexists(path):
                    prepare(path)
        sandbox.start()
        assert sandbox.wait_init(30).ok
        assert sandbox.invoke({"n": 1}, timeout=30).status == "success"
        spans = receiver.wait_for(lambda s: bool(invocation_spans(s)), timeout=20)
    return sandbox, spans


def runtime_key(sandbox: Sandbox) -> str:
    """The key the runtime process computes: its parent is this test process."""
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    lineage = f"{boot}/{os.getpid()}/{_start_ticks('/proc/self/stat')}"
    key = sandbox_key(RIE_STREAM, sandbox.api.address, lineage)
    assert key is not None
    return key


def assert_fresh(spans: Any) -> None:
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    assert init.attributes["lambda_init.init_attempt"] == 1
    assert "lambda_init.runtime_restarted" not in init.attributes
    assert init.attributes["lambda_init.phase"] == "init"
    assert invocation.attributes["lambda_init.sandbox_invocation"] == 1


def test_a_new_sandbox_sharing_tmp_and_log_stream_with_an_old_one_starts_fresh(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    serve_once(receiver, tmp_path)
    _, spans = serve_once(receiver, tmp_path)
    assert_fresh(spans)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _huge(path: Path) -> None:
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)


def _history(**fields: Any) -> Any:
    def plant(path: Path) -> None:
        data = {"v": 1, "attempts": [{"pid": 7, "start_ns": 10**18, "status": "done"}]}
        data["invocations"] = 0
        data.update(fields)
        path.write_text(json.dumps(data))

    return plant


HOSTILE = {
    "negative start": _history(attempts=[{"pid": 7, "start_ns": -5, "status": "running"}]),
    "counter 10**30": _history(invocations=10**30),
    "counter 1e30": _history(invocations=1e30),
    "fifo": _fifo,
    "50 MB file": _huge,
    "a directory": lambda path: path.mkdir(),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_state_file_is_ignored_and_the_init_span_still_leaves(
    receiver: OtlpReceiver, tmp_path: Path, name: str
) -> None:
    sandbox, spans = serve_once(receiver, tmp_path, HOSTILE[name])
    assert_fresh(spans)
    assert "Traceback" not in sandbox.logs()


def test_a_link_planted_at_the_temporary_path_is_never_followed(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_text("precious")
    state = StateFile(str(tmp_path / "otel-lambda-init-x.json"), 4242)
    os.symlink(target, f"{state.path}.4242.tmp")
    state.begin(10**18)
    state.count_invocation()
    assert target.read_text() == "precious"
    assert json.loads(Path(state.path).read_text())["invocations"] == 1
