"""The simulator's private channel to a SnapStart snapshot process: fork orders and fork replies.

Not part of Lambda's API: the parked snapshot (runtime/snapshot_fork.py, inside the sandbox
process) polls `GET /_simulator/snapshot/next` for an order to fork a restored sandbox and
reports the child's pid with `POST /_simulator/snapshot/forked`. It rides on the snapshot
sandbox's Runtime API server only because that is the address the snapshot process knows.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["PREFIX", "ForkChannel"]

PREFIX = "/_simulator/snapshot"  # runtime/snapshot_fork.py has its own copy (no imports there)
# The snapshot's long-poll for orders is answered empty (204) this often, so it can reap its
# children; waiters re-check stop() this often.
_ORDER_POLL_S = 0.5
_POLL_S = 0.1


class ForkChannel:
    """Orders queued by the simulator, taken by the snapshot; pids handed back to the asker."""

    def __init__(self, on_poll: Callable[[], None]) -> None:
        # A poll means the snapshot is parked: the publish-time INIT is done (told every time;
        # the receiver keeps the first).
        self._on_poll = on_poll
        self._cond = threading.Condition()
        self._orders: deque[dict[str, Any]] = deque()
        self._forked: dict[str, int] = {}
        self._stopped = False

    def request_fork(self, order: dict[str, Any], timeout: float) -> int:
        """Queue an order (with a unique "id") and wait for the forked child's pid."""
        with self._cond:
            self._orders.append(order)
            self._cond.notify_all()
            deadline = time.monotonic() + timeout
            while order["id"] not in self._forked:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopped:
                    raise TimeoutError(f"snapshot did not fork within {timeout}s")
                self._cond.wait(min(remaining, _POLL_S))
            return self._forked.pop(order["id"])

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Answer one request from the snapshot process: (HTTP status, JSON body or None)."""
        if method == "GET" and path == f"{PREFIX}/next":
            self._on_poll()
            with self._cond:
                if not self._orders:
                    self._cond.wait(_ORDER_POLL_S)
                order = self._orders.popleft() if self._orders else None
            return (204, None) if order is None else (200, order)
        if method == "POST" and path == f"{PREFIX}/forked":
            with self._cond:
                self._forked[body["id"]] = int(body["pid"])
                self._cond.notify_all()
            return 202, {"status": "OK"}
        return 404, {"errorType": "NotFound"}
