"""otel-lambda-init: see AWS Lambda cold starts in OpenTelemetry.

The sandbox's INIT becomes a span linked to the first invocation, tagged with whether a
user waited for it (``faas.coldstart``, ``lambda_init.proactive_initialization``, the gap).
"""

from __future__ import annotations

from .handler import instrument_handler

__all__ = ["instrument_handler"]
__version__ = "0.1.0"
