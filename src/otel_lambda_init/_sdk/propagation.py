"""The global propagator, even when ``OTEL_PROPAGATORS`` names one that does not load.

``opentelemetry.propagate`` raises at import when one name in ``OTEL_PROPAGATORS`` is
misspelled or not installed; the failed import is retried (and fails) by every caller, so one
typo silences every invocation span. We import it once with the names that load, and say once
which were dropped.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType

from .._compat import entry_points_of
from .._core.report import logger

OTEL_PROPAGATORS = "OTEL_PROPAGATORS"
_lock = threading.Lock()


def _loads(name: str) -> bool:
    try:
        entry = next(iter(entry_points_of("opentelemetry_propagator", name)))
        entry.load()()
    except Exception:
        return False
    return True


def usable_propagators(configured: str) -> tuple[list[str], list[str]]:
    """``OTEL_PROPAGATORS`` split into the names that load and those that do not."""
    names = [n.strip() for n in configured.split(",") if n.strip()]
    if any(n.lower() == "none" for n in names):
        return ["none"], []
    good = [n for n in names if _loads(n)]
    return good, [n for n in names if n not in good]


def import_propagate() -> ModuleType:
    """``opentelemetry.propagate``, imported with only the configured propagators that load."""
    try:
        from opentelemetry import propagate

        return propagate
    except Exception:  # a propagator name that does not load: handled below
        pass
    with _lock:
        previous = os.environ.get(OTEL_PROPAGATORS)
        good, dropped = usable_propagators(previous or "")
        logger.warning(
            "otel-lambda-init: ignoring %s entries %s: not installed or misspelled; using %s",
            OTEL_PROPAGATORS,
            ", ".join(repr(n) for n in dropped) or "(none)",
            ",".join(good) or "no propagator",
        )
        # The SDK reads the variable once, at import: hand it the usable list for that moment.
        os.environ[OTEL_PROPAGATORS] = ",".join(good) or "none"
        try:
            from opentelemetry import propagate
        finally:
            if previous is None:
                os.environ.pop(OTEL_PROPAGATORS, None)
            else:
                os.environ[OTEL_PROPAGATORS] = previous
    return propagate
