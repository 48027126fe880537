"""The earliest moment our code runs in the runtime process, handed to the owner.

Called from the wrapper's ``sitecustomize`` (as the interpreter starts, before the runtime
client is imported), from ``opentelemetry-instrument``'s pre-instrument hook (before the
upstream instrumentor imports the user's module), or at the latest from the handler shim.
Only the first call does anything (the owner's ``begin``). Nothing here may raise.
"""

from __future__ import annotations

import sys
import time

FIRST_LINE_NS = time.time_ns()
"""When this module was first imported: our first line in the process on the wrapper route."""


def start(source: str, first_line_ns: int | None = None) -> None:
    """Pin INIT's start, start import tracing and watch for the runtime client."""
    try:
        from .._owner import sandbox

        sandbox().begin(source, first_line_ns or FIRST_LINE_NS)
    except Exception as error:
        _report(f"could not start watching INIT ({error!r})")


def pre_instrument() -> None:
    """``opentelemetry_pre_instrument`` entry point: runs before any instrumentor."""
    try:
        from .._owner import sandbox

        if sandbox().config.disabled:
            return
        start("opentelemetry-instrument")
    except Exception as error:
        _report(f"the pre-instrument hook failed ({error!r})")


def _report(message: str) -> None:
    try:
        from .._core.report import report_once

        report_once("auto-early", message, exc_info=False)
    except Exception:
        sys.stderr.write(f"otel-lambda-init: {message}\n")
