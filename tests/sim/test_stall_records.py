"""A stalled sandbox leaves a record while it is stalled (otel_lambda_sim.stall): its processes'
stacks, the simulator's threads and the requests the APIs saw; it changes nothing it records."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from otel_lambda_sim import Sandbox, stall

HANDLERS = Path(__file__).parents[1] / "simulator_handlers"
pytestmark = pytest.mark.timeout(120)


def _first_record(sandbox: Sandbox) -> str:
    deadline = time.monotonic() + 60.0
    while not sandbox.stall_records and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sandbox.stall_records, "no stall record within 60 s"
    return Path(sandbox.stall_records[0]).read_text()


def _has_py_spy() -> bool:
    return stall._py_spy() is not None


def test_an_init_that_stalls_leaves_its_stacks_and_still_ends_as_it_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stall, "INIT_STALL_S", 0.3)
    monkeypatch.setattr(stall, "evidence_dir", lambda: tmp_path / "records")
    release = tmp_path / "release"
    env = {"HELD_INIT_UNTIL": str(release)}
    with Sandbox("held.handler", HANDLERS, env=env) as sb:
        sb.start()
        record = _first_record(sb)
        release.touch()
        outcome = sb.wait_init(30)
        result = sb.invoke({}, timeout=30)
    assert outcome.status == "done" and outcome.evidence is None
    assert result.status == "success" and result.evidence is None
    assert f"sandbox {sb.name}: INIT not done after" in record
    assert "runtime ready never; INIT done never" in record
    assert f"pid {sb.attempts[0].pid}:" in record and "thread " in record
    assert "signals (hex masks): SigPnd" in record and "SigCgt" in record
    assert "otel-lambda-sim-stall-record" in record  # the simulator's own threads
    if _has_py_spy():
        assert "wait_for_file (held.py" in record
    else:
        assert "py-spy not found" in record


def test_an_invocation_that_stalls_names_its_record_and_is_answered_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stall, "STALL_S", 0.3)
    monkeypatch.setattr(stall, "evidence_dir", lambda: tmp_path / "records")
    release = tmp_path / "release"
    with Sandbox("held.handler", HANDLERS) as sb:
        assert sb.wait_init(30).status == "done"
        inv = sb.submit({"until": str(release)})
        record = _first_record(sb)
        release.touch()
        result = inv.wait(30)
        served = sb.api.served[0].request_id
    assert result.status == "success" and result.evidence == sb.stall_records[0]
    assert f"invocation {served} not answered after" in record
    lines = [ln for ln in record.splitlines() if "/runtime/invocation/next" in ln]
    assert len(lines) == 1 and "-> 200 at" in lines[0]  # INIT.s, which got this event
    assert f"current invocation {served}: served" in record and "responded never" in record
    if _has_py_spy():
        assert "wait_for_file (held.py" in record and "handler (held.py" in record


def test_a_sandbox_that_never_stalls_leaves_no_record() -> None:
    with Sandbox("held.handler", HANDLERS) as sb:
        assert sb.wait_init(30).status == "done"
        assert sb.invoke({}, timeout=30).status == "success"
    assert sb.stall_records == []
    seen = [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in sb.api.seen.seen]
    assert seen[:2] == [("GET", "next", 200), ("POST", "response", 202)]
    assert seen[2][:2] == ("GET", "next")  # the runtime waits for more until the end
