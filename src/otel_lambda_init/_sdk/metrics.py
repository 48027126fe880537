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

from .._compat import is_proxy_meter_provider
from .._core import vocabulary as v
from .._core.classify import InitVerdict


def configured_meter_provider() -> Any:
    """The global MeterProvider if the application set one, else None. Nobody imported the
    metrics API: nobody set up metrics, and we do not import it for them."""
    api = sys.modules.get("opentelemetry.metrics")
    if api is None:
        return None
    provider = api.get_meter_provider()
    if isinstance(provider, api.NoOpMeterProvider):
        return None
    # The API's stand-in before set_meter_provider: recording there goes nowhere.
    return None if is_proxy_meter_provider(provider) else provider


class InitMetrics:
    """The three INIT instruments, made once per MeterProvider."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._instruments: tuple[Any, Any, Any, Any] | None = None  # (provider, 3 instruments)

    def record(self, verdict: InitVerdict, provider: Any = None) -> bool:
        """Count this INIT and record its duration and gap. True when recorded."""
        provider = provider if provider is not None else configured_meter_provider()
        if provider is None:
            return False
        with self._lock:
            if self._instruments is None or self._instruments[0] is not provider:
                meter = provider.get_meter(v.TRACER_NAME, v.VERSION)
                self._instruments = (
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
            _, coldstarts, init_duration, gap = self._instruments
        attributes = {
            v.FAAS_COLDSTART: verdict.coldstart,
            v.PROACTIVE: verdict.proactive,
            v.INITIALIZATION_TYPE: verdict.initialization_type,
        }
        coldstarts.add(1, attributes)
        init_duration.record(verdict.duration_ms / 1000.0, attributes)
        gap.record(verdict.gap_ms / 1000.0, attributes)
        return True
