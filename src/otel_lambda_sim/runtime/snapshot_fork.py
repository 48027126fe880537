"""SnapStart inside the simulator: after INIT, fork one child per restored sandbox.

Runs in the sandbox process, loaded by bootstrap.py for snap-start (never by the simulator).
awslambdaric calls restore_next after INIT and the before-snapshot hooks; we wrap it so the
process becomes the snapshot: it waits for the simulator to ask for a restore, forks, and the
child resumes from the same memory (random's state included, as with a real snapshot) talking
to its own Runtime API. awslambdaric's native client binds AWS_LAMBDA_RUNTIME_API once per
process (initialize_client again does not rebind it), so the child swaps in a small
pure-Python client with the same three calls.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import sys
import time
from typing import Any

_CONTROL = "/_simulator/snapshot"


class PyRuntimeClient:
    """The native runtime_client's interface (next, post_invocation_result, post_error)."""

    def __init__(self, address: str) -> None:
        self.address = address

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        conn = http.client.HTTPConnection(self.address)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read(), dict(resp.getheaders())
        finally:
            conn.close()

    def next(self) -> tuple[bytes, dict[str, str]]:
        status, body, headers = self._request("GET", "/2018-06-01/runtime/invocation/next")
        if status != 200:
            raise RuntimeError("Failed to get next")
        return body, headers

    def post_invocation_result(
        self, invoke_id: str, data: bytes, content_type: str, invocation_id: Any = None
    ) -> None:
        self._request(
            "POST",
            f"/2018-06-01/runtime/invocation/{invoke_id}/response",
            data,
            {"Content-Type": content_type or "application/json"},
        )

    def post_error(
        self, invoke_id: str, error_data: str, xray_fault: str, invocation_id: Any = None
    ) -> None:
        try:
            error_type = json.loads(error_data).get("errorType", "Unhandled")
        except ValueError:
            error_type = "Unhandled"
        self._request(
            "POST",
            f"/2018-06-01/runtime/invocation/{invoke_id}/error",
            error_data.encode(),
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Function-Error-Type": error_type,
                "Lambda-Runtime-Function-XRay-Error-Cause": xray_fault,
            },
        )


def _become_restored_child(order: dict[str, Any], client: Any, original: Any) -> None:
    from awslambdaric import lambda_runtime_client as lrc

    os.setpgid(0, 0)  # its own process group: the simulator kills it as one sandbox
    log_fd = os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    address = order["address"]
    os.environ["AWS_LAMBDA_RUNTIME_API"] = address
    os.environ["TMPDIR"] = order["tmpdir"]
    import tempfile

    tempfile.tempdir = None  # re-read TMPDIR
    lrc.runtime_client = PyRuntimeClient(address)
    client.lambda_runtime_address = address
    original(client)  # GET restore/next on the child's own API: returns when restored


def install() -> None:
    """Wrap LambdaRuntimeClient.restore_next so this process serves as the snapshot."""
    from awslambdaric import lambda_runtime_client as lrc

    original = lrc.LambdaRuntimeClient.restore_next

    def restore_next(self: Any) -> None:
        control = PyRuntimeClient(self.lambda_runtime_address)
        while True:
            # Reap restored children (they are ours after fork) so none is left a zombie.
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass
            status, body, _ = control._request("GET", f"{_CONTROL}/next")
            if status == 204:
                continue
            if status != 200:
                time.sleep(0.1)
                continue
            order = json.loads(body)
            sys.stdout.flush()
            sys.stderr.flush()
            # CPython reseeds the random module in a fork child; a restored snapshot does not.
            random_state = random.getstate()
            pid = os.fork()
            if pid == 0:
                random.setstate(random_state)
                _become_restored_child(order, self, original)
                return
            control._request(
                "POST", f"{_CONTROL}/forked", json.dumps({"id": order["id"], "pid": pid}).encode()
            )

    lrc.LambdaRuntimeClient.restore_next = restore_next
