"""Guards that keep the instrumentation's own failures away from the user's function."""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("otel_lambda_init")

_reported: set[str] = set()
_reported_lock = threading.Lock()


def report_once(kind: str, message: str, *, exc_info: bool = True) -> None:
    """Log one line per kind of failure per sandbox, never one per span or invocation."""
    with _reported_lock:
        if kind in _reported:
            return
        _reported.add(kind)
    logger.warning("otel-lambda-init: %s (reported once per sandbox)", message, exc_info=exc_info)
