"""SnapStart: one publish-time INIT, restored sandboxes forked from the same memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from otel_lambda_sim.snapstart import Snapshot

HANDLERS = Path(__file__).parents[1] / "simulator_handlers"
pytestmark = pytest.mark.timeout(60)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_restored_sandboxes_share_the_snapshot_memory_and_run_the_hooks() -> None:
    with Snapshot("snap.handler", HANDLERS) as snap:
        assert snap.wait_init(10).status == "done"
        (snap.tmpdir / "from-init.txt").write_text("in the snapshot")
        a, b = snap.restore(), snap.restore()
        try:
            ra, rb = a.invoke({}, timeout=10), b.invoke({}, timeout=10)
            assert (a.tmpdir / "from-init.txt").exists()
        finally:
            a.shutdown()
            b.shutdown()
        snapshot_pid = snap.pid
    assert ra.status == rb.status == "success"
    pa, pb = ra.payload, rb.payload
    assert pa["pid"] != pb["pid"] != snapshot_pid
    # The random module's state is restored verbatim: the same "random" draw in both.
    assert pa["draw"] == pb["draw"] and pa["init_draw"] == pb["init_draw"]
    assert pa["hooks"] == [["before_snapshot", snapshot_pid], ["after_restore", pa["pid"]]]
    assert pb["hooks"][-1] == ["after_restore", pb["pid"]]
    assert pa["log_stream"] is None and pa["init_type"] == "snap-start"
    assert pa["tmpdir"] != pb["tmpdir"]
    assert not any(_alive(p) for p in (pa["pid"], pb["pid"], snapshot_pid or 0))
    assert os.getpid() not in (pa["pid"], pb["pid"])
