"""Guards that keep the instrumentation's own failures away from the user's function."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

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


# The SDK and its exporters log every failed batch; inside Lambda that is one line per
# invocation for as long as a collector is down. Their loggers (named in ``_compat``) get a
# filter that lets each distinct message through once per sandbox.
_VOLATILE = r"0x[0-9a-fA-F]+|\bid=\d+"
"""Addresses and ids vary between otherwise equal messages (compiled on first use: ms at
import, and the filter only runs once an export has failed)."""


def _masked(message: str) -> str:
    import re  # the pattern is cached by re after its first use

    return re.sub(_VOLATILE, "?", message)


class OncePerSandbox(logging.Filter):
    """Passes the first record of each distinct message (addresses masked), drops repeats."""

    def __init__(self) -> None:
        super().__init__("otel-lambda-init-once")
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            key = f"{record.name}:{record.levelno}:" + _masked(record.getMessage())[:300]
        except Exception:
            return True
        with self._lock:
            if key in self._seen:
                return False
            if len(self._seen) < 256:  # bounded: a flood of new texts cannot grow memory
                self._seen.add(key)
        return True


_export_filter = OncePerSandbox()


def quiet_repeated_export_errors(logger_names: Iterable[str]) -> None:
    """Install the once-per-sandbox filter on these export loggers (idempotent)."""
    for name in logger_names:
        export_logger = logging.getLogger(name)
        if _export_filter not in export_logger.filters:
            export_logger.addFilter(_export_filter)
