"""The few HTTP/1.1 calls the internal extension makes to the Extensions API on localhost.

Not ``http.client``, whose import pulls ``email`` and ``ssl`` into INIT: one keep-alive
connection, a request with a body, a response with ``Content-Length``, chunked or
read-to-close framing, under ``HTTPConnection``'s names (``request``, ``getresponse``,
``sock``, ``close``).
"""

from __future__ import annotations

import socket

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Mapping

_MAX_LINE = 65_536
_MAX_HEADERS = 100


class LocalResponse:
    """A fully read response: status, headers (lower-case names) and body."""

    __slots__ = ("status", "headers", "_body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self._body = body

    def read(self) -> bytes:
        return self._body

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


class LocalHTTPConnection:
    """One HTTP/1.1 connection to ``host:port`` (the ``AWS_LAMBDA_RUNTIME_API`` form)."""

    def __init__(self, address: str, timeout: float | None = None) -> None:
        host, sep, port = address.rpartition(":")
        self.host = host if sep else address
        self.port = int(port) if sep and port else 80
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self._reader: object = None

    def _connect(self) -> socket.socket:
        if _is_ipv4(self.host):
            # Lambda's 127.0.0.1: no resolver, and no idna codec import (getaddrinfo's).
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect((self.host, self.port))
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((self.host, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self._reader = sock.makefile("rb")
        return sock

    def request(
        self,
        method: str,
        path: str,
        body: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        sock = self.sock if self.sock is not None else self._connect()
        data = body.encode() if isinstance(body, str) else (body or b"")
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if data or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(data)}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
        except BaseException:
            self.close()
            raise

    def getresponse(self) -> LocalResponse:
        try:
            return self._read_response()
        except BaseException:
            self.close()
            raise

    def _read_response(self) -> LocalResponse:
        reader = self._reader
        if reader is None:
            raise ConnectionError("no request was sent")
        readline = reader.readline  # type: ignore[attr-defined]
        status_line = readline(_MAX_LINE)
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ConnectionError(f"bad status line {status_line[:100]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            line = readline(_MAX_LINE)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        else:
            raise ConnectionError("too many response headers")
        body = self._read_body(reader, headers)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return LocalResponse(status, headers, body)

    def _read_body(self, reader: object, headers: dict[str, str]) -> bytes:
        read = reader.read  # type: ignore[attr-defined]
        readline = reader.readline  # type: ignore[attr-defined]
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(readline(_MAX_LINE).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(_read_exactly(read, size))
                readline(_MAX_LINE)  # the CRLF after each chunk
        length = headers.get("content-length")
        if length is not None:
            return _read_exactly(read, int(length))
        body: bytes = read()  # no framing: the server closes the connection
        self.close()
        return body

    def close(self) -> None:
        reader, self._reader = self._reader, None
        sock, self.sock = self.sock, None
        if reader is not None:
            reader.close()  # type: ignore[attr-defined]
        if sock is not None:
            sock.close()


def _is_ipv4(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return host.count(".") == 3


def _read_exactly(read: object, size: int) -> bytes:
    data: bytes = read(size)  # type: ignore[operator]
    if len(data) != size:
        raise ConnectionError(f"connection closed after {len(data)} of {size} bytes")
    return data
