"""The HTTP plumbing of a sandbox's Runtime and Extensions API: one handler class that reads
the body and hands every request to the API's dispatcher."""

from __future__ import annotations

import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from ._loopback import LoopbackServer
from .stall import SeenRequest

if TYPE_CHECKING:
    from .runtime_api import RuntimeApi

__all__ = ["ApiHandler", "ApiServer", "decode_body"]


def decode_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


class ApiServer(LoopbackServer):
    api: RuntimeApi


class ApiHandler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    seen: SeenRequest | None = None

    def reply(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        """Answer in one write, as Lambda's Go server does: a second write for the body would
        wait for this thread to get the GIL back from every other sandbox's API."""
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        lines = [
            f"{self.protocol_version} {status} {self.responses.get(status, ('',))[0]}",
            "Content-Type: application/json",
            f"Content-Length: {len(data)}",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        message = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict") + data
        if self.seen is not None:
            self.seen.answered_ns, self.seen.status = time.time_ns(), status
        with contextlib.suppress(OSError):  # the client died (killed runtime): nothing to tell
            self.wfile.write(message)

    def _arrived(self, method: str) -> str:
        path = self.path.split("?", 1)[0]
        who = (
            self.headers.get("Lambda-Extension-Name")
            or self.headers.get("Lambda-Extension-Identifier", "")[:8]
        )
        self.seen = self.server.api.seen.add(method, path, f"port {self.client_address[1]} {who}")
        return path

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.api._dispatch(self, "GET", self._arrived("GET"), b"")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        path = self._arrived("POST")
        self.server.api._dispatch(self, "POST", path, self._body())
