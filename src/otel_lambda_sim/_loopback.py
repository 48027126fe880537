"""The HTTP server base both simulator servers share: loopback only, never held by a client."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    """Binds 127.0.0.1 on an ephemeral port; request threads never block shutdown."""

    daemon_threads = True  # a hanging request must never block shutdown

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client killed mid-request (a killed runtime, a timed-out exporter) is normal

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        # Without TCP_NODELAY each small request/response round trip waits ~40 ms (Nagle +
        # delayed ACK); Lambda's own server does not have that latency.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=2)
