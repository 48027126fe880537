"""The realistic function's remote services, on 127.0.0.1: an S3 ``GetObject`` and a JSON API.

Keep-alive HTTP/1.1 with TCP_NODELAY, canned answers, so the calls cost what the client
libraries (and their instrumentation) cost, not the network.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

S3_OBJECT = b'{"orders": [1, 2, 3]}'
PRICES = b'{"prices": {"a": 1.5, "b": 2.25}}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        if self.path.startswith("/api/"):
            self._answer(PRICES, {"Content-Type": "application/json"})
        else:  # S3 GetObject, path style: /bucket/key
            self._answer(
                S3_OBJECT,
                {
                    "Content-Type": "application/json",
                    "ETag": '"6805f2cfc46c0f04559748bb039d69ae"',
                    "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT",
                    "x-amz-request-id": "BENCHSTUB",
                },
            )

    def _answer(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None


class StubServer:
    """``with StubServer() as stub: stub.url``; the sandbox environment it needs: ``stub.env``."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def env(self) -> dict[str, str]:
        """What the realistic function reads: the stub's address and dummy AWS credentials."""
        return {
            "REALISTIC_STUB_URL": self.url,
            "AWS_ACCESS_KEY_ID": "AKIDBENCHSTUB",
            "AWS_SECRET_ACCESS_KEY": "bench-stub-secret",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
