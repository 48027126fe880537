"""The invocation's deadline as a bound on our own work after the response.

Lambda's function timeout covers the whole invocation phase, including whatever runs between
the runtime posting the response and every ``next``. Our export there must end before the
deadline, with a margin, or it would turn a finished invocation into a timeout.
"""

from __future__ import annotations

import time
from typing import Any

DEADLINE_MARGIN_MS = 100.0
"""Time kept free before the invocation deadline, so our own work never makes it time out."""
DEFAULT_TIMEOUT_MS = 3_000.0
"""Lambda's default function timeout: the bound when a deadline is missing or unreadable."""


def read_deadline_ms(value: Any, flush_timeout_ms: float) -> float:
    """An event's deadline (epoch ms); a missing or unreadable one (a platform bug, or an
    attack) is replaced by now plus Lambda's default 3 s timeout, so the export still
    happens."""
    fallback = time.time() * 1000 + max(DEFAULT_TIMEOUT_MS, flush_timeout_ms + DEADLINE_MARGIN_MS)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return fallback
    try:
        deadline = float(value)
    except ValueError:
        return fallback
    return deadline if deadline == deadline and deadline < 1e15 else fallback  # NaN, inf


def seconds_left(deadline_ms: float) -> float:
    """Seconds left before the deadline minus our margin (never negative)."""
    return max(0.0, (deadline_ms - DEADLINE_MARGIN_MS) / 1000.0 - time.time())
