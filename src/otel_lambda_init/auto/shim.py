"""The handler ``otel-lambda-init-wrapper`` points ``_HANDLER`` at.

Importing it (the runtime does, during INIT) configures tracing from the ``OTEL_*``
variables, loads the function's own handler from ``ORIG_HANDLER`` exactly as the runtime
would have (so a missing module fails with the runtime's own error), and exposes it as
``handler``, traced by the same machinery as ``@instrument_handler``.
"""

from __future__ import annotations

from . import early

early.start("shim")

import importlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from .._core.report import logger, report_once  # noqa: E402
from .._owner import sandbox  # noqa: E402

SHIM_HANDLER = "otel_lambda_init.auto.shim.handler"
ORIG_HANDLER = "ORIG_HANDLER"


def load_handler(name: str) -> Callable[..., Any]:
    """Load ``module.function`` the way the runtime client does, errors included."""
    try:
        from awslambdaric.bootstrap import _get_handler
    except ImportError:  # not under awslambdaric (tests, other runtimes)
        module_name, function_name = name.rsplit(".", 1)
        module = importlib.import_module(module_name.replace("/", "."))
        return getattr(module, function_name)
    return _get_handler(name)


def _missing_orig_handler() -> Exception:
    message = (
        f"_HANDLER is {SHIM_HANDLER} but ORIG_HANDLER is not set: set _HANDLER to your "
        "function's handler and let otel-lambda-init-wrapper do the rest"
    )
    try:
        from awslambdaric.lambda_runtime_exception import FaultException

        return FaultException(FaultException.MALFORMED_HANDLER_NAME, message)
    except ImportError:
        return RuntimeError(message)


def upstream_instruments() -> bool:
    """True when opentelemetry-instrumentation-aws-lambda already wrapped the handler."""
    module = sys.modules.get("opentelemetry.instrumentation.aws_lambda")
    instrumentor = getattr(module, "AwsLambdaInstrumentor", None)
    if instrumentor is None:
        return False
    return bool(getattr(instrumentor(), "is_instrumented_by_opentelemetry", False))


def _prepare() -> Any:
    """Tracing first, so spans started while the function's module loads are recorded."""
    owner = sandbox()
    if owner.config.disabled:
        return None
    provider = owner.configure_from_environment()
    if owner.init_in_progress:
        owner.emitter.open_during_init()
    # Our own imports now, counted as our setup, not after the user's module is loaded.
    owner.timed_setup(_load_our_modules)
    # The user's module is loaded next, from inside this module's import: end our import
    # record here so the user's import is the init span's child, attributed to the function.
    owner.records.end_open_records(time.time_ns())
    return provider


def _load_our_modules() -> None:
    from .. import _api  # noqa: F401
    from .._delivery import policy  # noqa: F401


def _instrument(fn: Callable[..., Any], provider: Any) -> Callable[..., Any]:
    if getattr(fn, "__otel_lambda_init__", False):
        return fn  # the function already uses @instrument_handler
    if upstream_instruments():
        from .._api import ensure_processor

        ensure_processor(provider)  # the upstream span is the invocation span; we decorate it
        return fn
    from .._api import instrument_handler

    return instrument_handler(fn)


def _build() -> Callable[..., Any]:
    name = os.environ.get(ORIG_HANDLER) or ""
    if not name or name == SHIM_HANDLER:
        logger.error("otel-lambda-init: ORIG_HANDLER is not set; cannot find the function")
        raise _missing_orig_handler()
    provider = None
    try:
        provider = _prepare()
    except Exception:
        report_once("auto-setup", "tracing setup failed; the function runs uninstrumented")
    try:
        fn = load_handler(name)
    except BaseException:
        logger.error(
            "otel-lambda-init: the function's handler %r (ORIG_HANDLER) failed to load; "
            "the runtime reports the error as it would without the wrapper",
            name,
        )
        raise
    if provider is None:
        return fn
    try:
        return _instrument(fn, provider)
    except Exception:
        report_once("auto-instrument", "could not wrap the handler; it runs uninstrumented")
        return fn


handler = _build()
