"""Lambda Managed Instances under AWS's emulator in its managed-instances mode (chosen when
AWS_LAMBDA_MAX_CONCURRENCY is set; it follows the platform's ``rapid`` for LMI): the wrapper
route's internal extension for no events is accepted, shutdown SIGTERMs the runtime's process
group, and a worker that never served exports its INIT (issue 25 item 7).

That mode runs a ZIP function: ``/var/runtime/bootstrap`` with ``/var/task`` as its working
directory, as uid 993. A private mount namespace puts both there and makes this interpreter
(under /root) reachable for that user; the host's mounts are left alone. Root only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from components import Rie, sandbox_env, wait_until
from lambda_harness import OtlpReceiver, dev_layer, init_spans, invocation_spans

pytestmark = [pytest.mark.rie, pytest.mark.timeout(180)]

WAYS_IN = Path(__file__).parents[1] / "ways_in_handlers"
WORKERS = 2


@pytest.fixture
def lmi_root() -> Iterator[Path]:
    """A directory the runtime's user (uid 993) can read: /var and /root's stand-ins."""
    if os.geteuid() != 0:
        pytest.skip("RIE's managed-instances mode runs the function as uid 993: needs root")
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "true"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr[-200:]}")
    root = Path(tempfile.mkdtemp(prefix="lmi-rie-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _launcher(root: Path) -> list[str]:
    """Lay out /var/task and /var/runtime/bootstrap (the wrapper in front of awslambdaric, as
    the managed runtime's bootstrap execs it) and mount them in a private namespace."""
    var = root / "var"
    (var / "task").mkdir(parents=True)
    (var / "runtime").mkdir()
    shutil.copy(WAYS_IN / "plain_app.py", var / "task" / "plain_app.py")
    wrapper = dev_layer(root) / "otel-lambda-init"
    bootstrap = var / "runtime" / "bootstrap"
    bootstrap.write_text(
        f'#!/bin/sh\nexec {wrapper} {sys.executable} -m awslambdaric "$_HANDLER"\n'
    )
    bootstrap.chmod(0o755)
    home = root / "home"
    (home / ".pyenv").mkdir(parents=True)
    home.chmod(0o755)
    mounts = [f"mount --bind {var} /var"]
    if Path("/root/.pyenv").is_dir():  # pyenv's interpreters live under root's 0700 home
        mounts += [f"mount --bind /root/.pyenv {home}/.pyenv", f"mount --rbind {home} /root"]
    script = " && ".join([*mounts, 'exec "$@"'])
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]


def test_rie_lmi_sigterms_every_worker_and_the_one_that_never_served_exports_its_init(
    receiver: OtlpReceiver, lmi_root: Path
) -> None:
    env = sandbox_env(
        AWS_LAMBDA_MAX_CONCURRENCY=str(WORKERS),
        _HANDLER="plain_app.handler",
        AWS_EXECUTION_ENV="AWS_Lambda_python3.12",  # SIGTERM reaches Python (helper thread)
        LAMBDA_TASK_ROOT="/var/task",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        LOG_LEVEL="debug",
    )
    rie = Rie([], Path("/"), env, lmi_root / "rie.log", launcher=_launcher(lmi_root))
    try:
        # Every worker waits for an event (its INIT is over) before the one invocation.
        wait_until(
            lambda: rie.logs().count("Received Runtime /next") >= WORKERS, 60, "every worker"
        )
        invocation = rie.invoke({"n": 1}, timeout=60)
        receiver.wait_for(lambda s: bool(invocation_spans(s)), timeout=20)
        code = rie.terminate(timeout=10)
    finally:
        rie.kill_group()
    logs = rie.logs()
    assert invocation.status == 200 and invocation.payload["n"] == 1
    assert "Internal agent registered" in logs and "agentName=otel-lambda-init" in logs
    assert code == 0 and "Sending SIGKILL" not in logs, logs[-3000:]
    spans = receiver.wait_for(lambda s: len(init_spans(s)) >= WORKERS, timeout=20)
    inits = init_spans(spans)
    assert len(inits) == WORKERS
    assert len({s.attributes["lambda_init.worker.pid"] for s in inits}) == WORKERS
    assert sorted(bool(s.attributes.get("lambda_init.unused")) for s in inits) == [False, True]
    assert len(invocation_spans(spans)) == 1
