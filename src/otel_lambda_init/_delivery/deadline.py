"""The invocation's deadline as a bound on our own work after the response.

Lambda's function timeout covers the time between the runtime's post and every ``next``, so
our export there ends before the deadline, with a margin. The header is kept as text by the
runtime hooks and parsed here after the response; without one the flush timeout alone bounds
the export. See docs/delivery.md.
"""

from __future__ import annotations

import time

DEADLINE_MARGIN_MS = 100.0
"""Time kept free before the invocation deadline, so our own work never makes it time out."""


def parse_deadline_ms(value: object) -> float | None:
    """The invocation's deadline (epoch ms) from the runtime's ``Lambda-Runtime-Deadline-Ms``
    header, if readable: the runtime passes it through as text, unchecked."""
    if value is None or isinstance(value, bool):
        return None
    try:
        deadline = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return deadline if 0 < deadline < 1e15 else None  # NaN and inf fail the comparison


def seconds_left(deadline_ms: float) -> float:
    """Seconds left before the deadline minus our margin (never negative)."""
    return max(0.0, (deadline_ms - DEADLINE_MARGIN_MS) / 1000.0 - time.time())
