"""otel-lambda-init: see AWS Lambda cold starts in OpenTelemetry.

The sandbox's INIT becomes a span linked to the first invocation, tagged with whether a
user waited for it (``faas.coldstart``, ``lambda_init.proactive_initialization``, the gap).
"""

from __future__ import annotations

import time as _time

_FIRST_LINE_NS = _time.time_ns()  # our code's first line: the end of the ``runtime`` child

from . import anatomy as _anatomy  # noqa: E402 - stdlib only: cheap on the INIT path

_setup = _anatomy.open_setup(_FIRST_LINE_NS)
_anatomy.begin(_FIRST_LINE_NS)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .handler import instrument_handler
    from .phases import init_done, init_phase

__all__ = ["init_done", "init_phase", "instrument_handler"]
__version__ = "0.1.0"

# Public names load on first use: ``import otel_lambda_init`` stays cheap, and what the
# decorator needs (the OpenTelemetry API) is imported only by users of the decorator.
_LAZY = {"instrument_handler": ".handler", "init_phase": ".phases", "init_done": ".phases"}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_lambda_init' has no attribute {name!r}")
    from importlib import import_module

    value = _anatomy.timed_setup(lambda: getattr(import_module(module, __name__), name))
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


_anatomy.close_setup(_setup)
