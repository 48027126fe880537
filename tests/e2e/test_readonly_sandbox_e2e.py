"""A sandbox as Lambda gives it: the function runs as a non-root user, its task root is
read-only, and here /tmp is not writable either (issue 25 item 9): nothing of ours may break
the function, and its spans still leave."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

TESTS = Path(__file__).parents[1]
NOBODY = 65534


def _launcher(tmp_path: Path) -> str:
    """An interpreter that runs as ``nobody`` in a mount namespace where /tmp is read-only."""
    script = tmp_path / "python-as-nobody"
    script.write_text(
        "#!/bin/sh\n"
        "# the harness's sandbox directory is private to root: readable, as /var/runtime is\n"
        'for a in "$@"; do case "$a" in */runtime/*) chmod -R a+rX "${a%/runtime/*}";; esac; done\n'
        "exec unshare -m sh -c 'mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp && "
        f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups -- "
        f'{sys.executable} "$@"\' sh "$@"\n'
    )
    script.chmod(0o755)
    probe = subprocess.run(
        [str(script), "-c", "import os, pathlib; pathlib.Path('/tmp/x-ro-probe').touch()"],
        capture_output=True,
        text=True,
    )
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot make a read-only /tmp as another user here: {probe.stderr[-200:]}")
    return str(script)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root")
@pytest.mark.parametrize("route", ["wrapper", "manual"])
def test_a_read_only_sandbox_as_a_non_root_user_keeps_the_function_and_its_spans(
    receiver: OtlpReceiver, route: str, tmp_path: Path
) -> None:
    python = _launcher(tmp_path)
    if route == "wrapper":
        wrapper = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
        assert wrapper
        handler, code_dir, env = (
            "plain_app.handler",
            TESTS / "ways_in_handlers",
            {"AWS_LAMBDA_EXEC_WRAPPER": wrapper},
        )
    else:
        handler, code_dir, env = "manual_app.handler", TESTS / "handlers", {}
    env["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.12"
    with running_sandbox(handler, receiver, code_dir=code_dir, env=env, python=python) as sandbox:
        assert sandbox.wait_init(30).status == "done", sandbox.logs()[-2000:]
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(3)]
        outcome = sandbox.shutdown()
    logs = sandbox.logs()
    assert [r.status for r in results] == ["success"] * 3, ([r.payload for r in results], logs)
    assert not outcome.sigkill_sent, outcome
    spans = receiver.spans()
    invocations = invocation_spans(spans)
    numbers = sorted(s.attributes["lambda_init.sandbox_invocation"] for s in invocations)
    assert numbers == [1, 2, 3], logs[-3000:]
    assert len(init_spans(spans)) == 1
    assert "Traceback" not in logs, logs[-3000:]
    assert logs.count("could not write") <= 1  # the state file under /tmp: said once
