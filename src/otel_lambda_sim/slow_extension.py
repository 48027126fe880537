"""An external extension whose INIT ends after the runtime's: the simulator's stand-in for
the OpenTelemetry collector layer or the Datadog extension (hundreds of ms of INIT).

Lambda ends INIT when the runtime *and every extension* have called ``next``, so with such
an extension a request that waited for INIT reaches the handler that much after the runtime's
first ``next``: the idle gap of a real cold start. ``install`` writes the executable Lambda
would find in ``/opt/extensions``; the process registers for INVOKE and SHUTDOWN, works
``SIM_EXTENSION_INIT_MS`` (its INIT), then serves events until SHUTDOWN.
Run as ``python -m otel_lambda_sim.slow_extension``.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["EXTENSION_INIT_MS_ENV", "install", "main"]

EXTENSION_INIT_MS_ENV = "SIM_EXTENSION_INIT_MS"
NAME = "slow-init-extension"


def install(directory: Path, init_ms: float, python: str = sys.executable) -> Path:
    """Write the extension's executable into ``directory`` (an ``/opt/extensions``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / NAME
    path.write_text(
        "#!/bin/sh\n"
        f"export {EXTENSION_INIT_MS_ENV}={float(init_ms)!r}\n"
        f'exec "{python}" -m otel_lambda_sim.slow_extension\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def main() -> int:
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    base = f"http://{api}/2020-01-01/extension"
    register = urllib.request.Request(
        f"{base}/register",
        data=json.dumps({"events": ["INVOKE", "SHUTDOWN"]}).encode(),
        headers={"Lambda-Extension-Name": NAME},
        method="POST",
    )
    with urllib.request.urlopen(register, timeout=30) as reply:
        ext_id = reply.headers["Lambda-Extension-Identifier"]
    time.sleep(float(os.environ.get(EXTENSION_INIT_MS_ENV, "0")) / 1000.0)  # its INIT
    while True:
        nxt = urllib.request.Request(
            f"{base}/event/next", headers={"Lambda-Extension-Identifier": ext_id}
        )
        try:
            with urllib.request.urlopen(nxt, timeout=3600) as reply:
                event = json.loads(reply.read() or b"{}")
        except OSError:
            return 0  # the sandbox went away
        if event.get("eventType") == "SHUTDOWN":
            return 0


if __name__ == "__main__":
    sys.exit(main())
