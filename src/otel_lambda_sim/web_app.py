"""A web app behind the AWS Lambda Web Adapter, as a simulated function.

Lambda runs such a function as the adapter's layer (or container image) sets it up: the
adapter binary in ``/opt/extensions`` (an external extension, started by Lambda), the layer's
``/opt/bootstrap`` as ``AWS_LAMBDA_EXEC_WRAPPER``, which runs the function's handler, a
``run.sh`` that starts the web server. The adapter waits for the app's readiness, then polls
the Runtime API and forwards each event over HTTP. ``function_config`` builds that: the real
adapter (``LWA_BIN``, scripts/components.sh) behind a small script in the sandbox's extensions
directory, the layer's bootstrap, and an app port per sandbox (sandboxes share the host's
network; each derives its port from its own ``TMPDIR``, which both the adapter and the app
see).
"""

from __future__ import annotations

import os
import shlex
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from .function import FunctionConfig

__all__ = ["ADAPTER_NAME", "PORT_SCRIPT", "function_config", "http_api_event", "install"]

ADAPTER_NAME = "lambda-adapter"
PORT_SCRIPT = (
    'AWS_LWA_PORT="${AWS_LWA_PORT:-$((20000 + $(printf %s "$TMPDIR" | cksum | '
    "cut -d' ' -f1) % 20000))}\"\nexport AWS_LWA_PORT\n"
)
"""The app's port, the same in the adapter's and the app's process of one sandbox."""
LAYER_BOOTSTRAP = (
    "#!/bin/sh\n# The adapter layer's /opt/bootstrap: run the function's handler (run.sh).\n"
    + PORT_SCRIPT
    + 'exec "$LAMBDA_TASK_ROOT/$_HANDLER"\n'
)


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def install(directory: Path, adapter: str) -> tuple[Path, Path]:
    """Write ``directory/extensions/lambda-adapter`` (the adapter, on the sandbox's port) and
    ``directory/bootstrap`` (the layer's exec wrapper); returns both paths."""
    extensions = directory / "extensions"
    extensions.mkdir(parents=True, exist_ok=True)
    _executable(
        extensions / ADAPTER_NAME,
        "#!/bin/sh\n" + PORT_SCRIPT + f"exec {shlex.quote(str(Path(adapter).resolve()))}\n",
    )
    bootstrap = _executable(directory / "bootstrap", LAYER_BOOTSTRAP)
    return extensions, bootstrap


def function_config(
    run_script: str, code_dir: Path | str, adapter: str | None = None, **settings: Any
) -> FunctionConfig:
    """A function whose handler is ``run_script`` (in ``code_dir``) behind the adapter
    (``adapter``, else ``LWA_BIN``)."""
    adapter = adapter or os.environ.get("LWA_BIN")
    if not adapter or not os.access(adapter, os.X_OK):
        raise ValueError(
            "a web app needs the Lambda Web Adapter binary: set LWA_BIN "
            "(scripts/components.sh builds it)"
        )
    extensions, bootstrap = install(Path(tempfile.mkdtemp(prefix="otel-lambda-lwa-")), adapter)
    return FunctionConfig.of(
        run_script,
        code_dir,
        exec_wrapper=str(bootstrap),
        extensions_dir=extensions,
        **settings,
    )


def http_api_event(path: str = "/", received_ns: int | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for ``GET path``; ``timeEpoch`` says when
    AWS received the request (now unless given)."""
    received_ms = (received_ns if received_ns is not None else time.time_ns()) // 1_000_000
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "requestId": "req",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": received_ms,
        },
        "isBase64Encoded": False,
    }
