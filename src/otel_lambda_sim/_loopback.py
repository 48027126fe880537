"""The HTTP server base both simulator servers share: loopback only, never held by a client."""

from __future__ import annotations

import queue
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SPARE_WORKERS = 2


class LoopbackServer(ThreadingHTTPServer):
    """Binds 127.0.0.1 on an ephemeral port; request threads never block shutdown.

    Connections go to threads started ahead of them: a thread started for a connection waits
    for a CPU as a new task (Linux places it behind the busy ones, several ms on a loaded host),
    which Lambda's Runtime API does not pay for a runtime's ``next``."""

    daemon_threads = True  # a hanging request must never block shutdown

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._jobs: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._idle = 0
        self._pool_lock = threading.Lock()
        self._top_up = threading.Event()
        self._closing = False

    def process_request(self, request: Any, client_address: Any) -> None:
        self._jobs.put((request, client_address))

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._closing:  # a connection accepted as the server stopped: close it
                self.shutdown_request(job[0])
                return
            with self._pool_lock:
                self._idle -= 1
            self._top_up.set()  # a spare for the next connection, started off this path
            self.process_request_thread(*job)
            if self._closing:
                return
            with self._pool_lock:
                self._idle += 1

    def _keep_spares(self) -> None:
        while not self._closing:
            self._top_up.wait()
            self._top_up.clear()
            while not self._closing:
                with self._pool_lock:
                    if self._idle >= _SPARE_WORKERS:
                        break
                    self._idle += 1
                threading.Thread(target=self._work, daemon=True).start()

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
        threading.Thread(target=self._keep_spares, daemon=True).start()
        self._top_up.set()
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._closing = True
        self._top_up.set()
        with self._pool_lock:
            idle = self._idle
        for _ in range(idle):
            self._jobs.put(None)
        self._thread.join(timeout=2)
