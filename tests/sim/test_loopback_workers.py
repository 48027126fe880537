"""The simulator's HTTP servers hand each connection to a thread started ahead of it, and keep
serving however many connections are held open (long-polls: a runtime's and extensions' next)."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from otel_lambda_sim._loopback import LoopbackServer

RELEASE = threading.Event()
HOLDING = threading.Semaphore(0)  # one release per request being held by the server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path == "/hold":
            HOLDING.release()
            RELEASE.wait(30)
        body = threading.current_thread().name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _get(port: int, path: str, out: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    out.append(conn.getresponse().read().decode())
    conn.close()


def test_connections_held_open_never_starve_the_next_one() -> None:
    RELEASE.clear()
    server = LoopbackServer(_Handler)
    server.start()
    try:
        held: list[str] = []
        args = (server.port, "/hold", held)
        holders = [threading.Thread(target=_get, args=args) for _ in range(6)]
        for t in holders:
            t.start()
        for _ in holders:  # all six held by the server's threads before the next one comes
            assert HOLDING.acquire(timeout=30)
        quick: list[str] = []
        _get(server.port, "/now", quick)  # six threads are held: a seventh serves this one
        assert len(quick) == 1 and held == []
        RELEASE.set()
        for t in holders:
            t.join(30)
        assert len(held) == 6
        assert len(set(held + quick)) == 7  # one thread per open connection
    finally:
        RELEASE.set()
        server.stop()


def test_a_stopped_server_lets_its_threads_go() -> None:
    before = set(threading.enumerate())
    server = LoopbackServer(_Handler)
    server.start()
    out: list[str] = []
    _get(server.port, "/now", out)
    server.stop()
    for t in set(threading.enumerate()) - before:
        t.join(2)
    assert out and set(threading.enumerate()) - before == set()
