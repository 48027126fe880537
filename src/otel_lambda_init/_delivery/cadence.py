"""Export cadence for busy sandboxes: after-response exports at most every N ms.

Every after-response export keeps the sandbox busy (one OTLP request, a thread hand-off)
before the runtime's ``next`` lets Lambda hand it the next request. A sandbox serving many
requests a second can batch the spans of several invocations into one export instead.

What can be lost: spans wait in memory (recorded, or in the span processor's queue) while the
sandbox is frozen
(nothing is lost by a freeze: the queue thaws with the process). At shutdown, python3.12+
runtimes deliver SIGTERM to our handler, which exports what waits. On python3.10/3.11
awslambdaric does not let a Python SIGTERM handler run, so a sandbox shut down between
exports loses the spans of the invocations since the last export (at most N ms of them),
and an idle sandbox keeps its last batch until its next invocation. The default, 0, exports
after every invocation.
"""

from __future__ import annotations


class ExportCadence:
    """Decides, from explicit times, whether this invocation's after-response window exports."""

    __slots__ = ("interval_ns", "_last_ns")

    def __init__(self, interval_ms: float) -> None:
        self.interval_ns = int(interval_ms * 1_000_000)
        self._last_ns: int | None = None

    def due(self, now_ns: int) -> bool:
        """True for the first export (it carries the init span), and whenever the interval
        has passed since the last one; the caller then exports."""
        last = self._last_ns
        if self.interval_ns > 0 and last is not None and now_ns - last < self.interval_ns:
            return False
        self._last_ns = now_ns
        return True
