"""Export cadence for busy sandboxes: after-response exports at most every N ms.

Spans in between wait in memory; SIGTERM exports them on python3.12+, while on 3.10/3.11 a
sandbox shut down between exports loses at most N ms of them. The default, 0, exports after
every invocation. See docs/delivery.md, "Export cadence for busy sandboxes".
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
