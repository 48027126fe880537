"""INIT metrics through the OpenTelemetry metrics API, only when a MeterProvider is set.

Semantic-convention ``faas.coldstarts`` and ``faas.init_duration``, plus a gap histogram,
each with ``faas.coldstart``, ``lambda_init.proactive_initialization`` and
``lambda_init.initialization_type``. Recorded for every INIT at its classification, whatever
the trace sampling decided. Without a configured MeterProvider nothing is imported or made.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from .classify import InitVerdict

_NO_PROVIDER = ("_ProxyMeterProvider", "NoOpMeterProvider")
_lock = threading.Lock()
_instruments: tuple[Any, Any, Any, Any] | None = None  # (provider, coldstarts, init, gap)


def _configured_provider() -> Any:
    api = sys.modules.get("opentelemetry.metrics")
    if api is None:
        return None  # nobody set up metrics: do not import the API for them
    provider = api.get_meter_provider()
    return None if type(provider).__name__ in _NO_PROVIDER else provider


def record_init(verdict: InitVerdict) -> bool:
    """Count this INIT and record its duration and gap. Returns True when recorded."""
    global _instruments
    provider = _configured_provider()
    if provider is None:
        return False
    with _lock:
        if _instruments is None or _instruments[0] is not provider:
            meter = provider.get_meter("otel_lambda_init", "0.1.0")
            _instruments = (
                provider,
                meter.create_counter(
                    "faas.coldstarts", unit="{coldstart}", description="Number of INITs"
                ),
                meter.create_histogram(
                    "faas.init_duration", unit="s", description="Duration of INIT"
                ),
                meter.create_histogram(
                    "lambda_init.gap",
                    unit="s",
                    description="Time from INIT end to the sandbox's first invocation",
                ),
            )
        _, coldstarts, init_duration, gap = _instruments
    attributes = {
        "faas.coldstart": verdict.coldstart,
        "lambda_init.proactive_initialization": verdict.proactive,
        "lambda_init.initialization_type": verdict.initialization_type,
    }
    coldstarts.add(1, attributes)
    init_duration.record(verdict.duration_ms / 1000.0, attributes)
    gap.record(verdict.gap_ms / 1000.0, attributes)
    return True


def reset_for_tests() -> None:
    global _instruments
    _instruments = None
