"""The extension's small HTTP/1.1 client against a raw server on 127.0.0.1: keep-alive,
Content-Length, chunked and read-to-close framing, request bodies and headers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from otel_lambda_init._delivery.local_http import LocalHTTPConnection

RESPONSES = [
    b"HTTP/1.1 200 OK\r\nLambda-Extension-Identifier: ext-1\r\nContent-Length: 5\r\n\r\nhello",
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4;x=y\r\n":1}\r\n0\r\n\r\n',
    b"HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\nbye",
]


@pytest.fixture
def server() -> Iterator[tuple[int, list[bytes]]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    requests: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(10)
        with conn:
            for response in RESPONSES:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(body) < length:
                    body += conn.recv(4096)
                requests.append(head + b"\r\n\r\n" + body)
                conn.sendall(response)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], requests
    thread.join(10)
    listener.close()


def test_three_framings_over_one_keep_alive_connection(server: tuple[int, list[bytes]]) -> None:
    port, requests = server
    conn = LocalHTTPConnection(f"127.0.0.1:{port}", timeout=5)
    conn.request("POST", "/register", body='{"events": ["INVOKE"]}', headers={"X-Name": "ext"})
    first = conn.getresponse()
    assert (first.status, first.read()) == (200, b"hello")
    assert first.getheader("lambda-extension-identifier") == "ext-1"
    sock = conn.sock
    conn.request("GET", "/next", headers={"Lambda-Extension-Identifier": "ext-1"})
    second = conn.getresponse()
    assert (second.status, second.read()) == (200, b'{"a":1}')
    assert conn.sock is sock  # the same connection
    conn.request("GET", "/next")
    third = conn.getresponse()
    assert (third.status, third.read()) == (500, b"bye")
    assert conn.sock is None  # the server said close
    assert requests[0].startswith(b"POST /register HTTP/1.1\r\n")
    assert b"Content-Length: 22\r\n" in requests[0] and requests[0].endswith(b'["INVOKE"]}')
    assert b"X-Name: ext\r\n" in requests[0]
    assert b"Lambda-Extension-Identifier: ext-1\r\n" in requests[1]


def test_a_refused_connection_raises_and_leaves_no_socket() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = LocalHTTPConnection(f"127.0.0.1:{port}", timeout=2)
    with pytest.raises(ConnectionError):
        conn.request("GET", "/next")
    assert conn.sock is None
