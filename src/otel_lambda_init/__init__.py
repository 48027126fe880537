"""otel-lambda-init: see AWS Lambda cold starts in OpenTelemetry.

The sandbox's INIT becomes a span linked to the first invocation, tagged with whether a
user waited for it (``faas.coldstart``, ``lambda_init.proactive_initialization``, the gap).
"""

from __future__ import annotations

import time as _time

_FIRST_LINE_NS = _time.time_ns()  # our code's first line: the end of the ``runtime`` child

from ._core.vocabulary import VERSION as __version__  # noqa: E402
from ._owner import sandbox as _sandbox  # noqa: E402 - stdlib only: cheap on the INIT path

_owner = _sandbox()
_setup = _owner.records.open_setup(_FIRST_LINE_NS)
_owner.begin("import", _FIRST_LINE_NS)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._api import instrument_handler
    from ._api_processor import InitSpanProcessor, ensure_processor
    from ._phases import init_done, init_phase
    from ._sdk.lazy_exporter import LazySpanExporter, otlp_exporter_factory
    from ._sdk.sampler import InitSpanSampler

__all__ = [
    "InitSpanProcessor",
    "InitSpanSampler",
    "LazySpanExporter",
    "__version__",
    "ensure_processor",
    "init_done",
    "init_phase",
    "instrument_handler",
    "otlp_exporter_factory",
]

# Public names load on first use: ``import otel_lambda_init`` stays cheap, and what the
# decorator needs (the OpenTelemetry API and SDK) is imported only by those who use it.
_LAZY = {
    "instrument_handler": "._api",
    "InitSpanProcessor": "._api_processor",
    "ensure_processor": "._api_processor",
    "init_phase": "._phases",
    "init_done": "._phases",
    "InitSpanSampler": "._sdk.sampler",
    "LazySpanExporter": "._sdk.lazy_exporter",
    "otlp_exporter_factory": "._sdk.lazy_exporter",
}


def _untouched(handler: object = None, **_options: object) -> object:
    """``instrument_handler`` while the package is off (``OTEL_SDK_DISABLED=true``,
    ``OTEL_LAMBDA_INIT_DISABLED``): the handler itself, and no OpenTelemetry import."""
    return handler if handler is not None else (lambda fn: fn)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_lambda_init' has no attribute {name!r}")
    if name == "instrument_handler" and _owner.config.disabled:
        return _untouched
    from importlib import import_module

    value = _sandbox().timed_setup(lambda: getattr(import_module(module, __name__), name))
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


_owner.records.close_setup(_setup, _time.time_ns())
