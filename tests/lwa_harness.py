"""A web app behind AWS's Lambda Web Adapter under RIE, the way Lambda runs it: the adapter in
``/opt/extensions`` (an external extension RIE starts), the app's ``run.sh`` as the function's
process. The adapter goes into a tmpfs ``/opt`` of a private mount namespace (``unshare -m``),
so the machine's own ``/opt`` is never touched. RIE listens on its own port; the app on
``AWS_LWA_PORT``.

LWA_BIN comes from scripts/components.sh; when unset and cargo exists the script is run once;
only without cargo (or without ``unshare``) do the tests skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from components import (
    COMPONENTS_SCRIPT,
    Rie,
    free_port,
    sandbox_env,
    stopped_after,
)

WEB_APPS = Path(__file__).parent / "web_apps"
_built: dict[str, str] = {}
NAMESPACE_SCRIPT = """
set -e
mount -t tmpfs tmpfs /opt
mkdir /opt/extensions
cp "$LWA_SOURCE" /opt/extensions/lambda-adapter
unset LWA_SOURCE
exec "$@"
"""


def lwa_bin() -> str:
    """The adapter binary: LWA_BIN, else built by scripts/components.sh (cargo needed)."""
    value = os.environ.get("LWA_BIN") or _built.get("LWA_BIN")
    if value:
        assert os.access(value, os.X_OK), f"LWA_BIN={value} is not an executable"
        return value
    if shutil.which("cargo") is None:
        pytest.skip("LWA_BIN is unset and no cargo is on PATH to build the Lambda Web Adapter")
    result = subprocess.run(
        ["bash", str(COMPONENTS_SCRIPT)], capture_output=True, text=True, timeout=3600
    )
    assert result.returncode == 0, f"scripts/components.sh failed:\n{result.stderr[-4000:]}"
    for line in result.stdout.splitlines():
        name, _, path = line.partition("=")
        if name == "LWA_BIN":
            _built[name] = path
    assert "LWA_BIN" in _built, f"scripts/components.sh printed no LWA_BIN:\n{result.stdout}"
    return _built["LWA_BIN"]


def namespace_command() -> list[str]:
    """``unshare`` into a private mount namespace (and, when not root, a user namespace whose
    root may mount the tmpfs)."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare (util-linux) for a private mount namespace")
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    return ["unshare", "--mount", "--propagation", "private", *user]


class LwaSandbox(Rie):
    """RIE with the adapter as an external extension and ``run.sh`` as the function."""

    what = "the sandbox"
    invoke_timeout_s = 90.0

    def __init__(
        self, run_script: str, cwd: Path, user_env: dict[str, str], log_path: Path
    ) -> None:
        unshare = namespace_command()
        adapter = lwa_bin()
        self.app_port = free_port()
        env = sandbox_env(
            AWS_LWA_PORT=str(self.app_port),
            LWA_SOURCE=adapter,
            # The adapter's own log lines (readiness, forwarding) in the RIE log.
            RUST_LOG=os.environ.get("RUST_LOG", "info"),
            **user_env,
        )
        launcher = [*unshare, "sh", "-c", NAMESPACE_SCRIPT, "lwa-sandbox"]
        super().__init__(["sh", run_script], cwd, env, log_path, launcher=launcher, listen_s=30)


def running_lwa(
    run_script: str, *, env: dict[str, str], log_path: Path, cwd: Path = WEB_APPS
) -> AbstractContextManager[LwaSandbox]:
    return stopped_after(LwaSandbox(run_script, cwd, env, log_path), 15)


def http_api_event(path: str, time_epoch_ms: int | None = None, **headers: str) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for ``GET path``, as Lambda delivers it;
    ``timeEpoch`` is when AWS received the request."""
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.com",
        "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
        "requestId": "req",
        "routeKey": "$default",
        "stage": "$default",
    }
    if time_epoch_ms is not None:
        context["timeEpoch"] = time_epoch_ms
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example.com", **headers},
        "requestContext": context,
        "isBase64Encoded": False,
    }
