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

from .._compat import runtime_get_handler  # noqa: E402
from .._core.report import logger, report_once  # noqa: E402
from .._owner import sandbox  # noqa: E402
from .deferred import plan as plan_deferred  # noqa: E402

TYPE_CHECKING = False  # the deferred route must not import OpenTelemetry during INIT
if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

SHIM_HANDLER = "otel_lambda_init.auto.shim.handler"
ORIG_HANDLER = "ORIG_HANDLER"


def load_handler(name: str) -> Callable[..., Any]:
    """Load ``module.function`` the way the runtime client does, errors included."""
    get_handler = runtime_get_handler()
    try:
        from awslambdaric.lambda_runtime_exception import FaultException
    except ImportError:  # not under awslambdaric (tests, other runtimes)
        get_handler = None
    if get_handler is None:
        module_name, function_name = name.rsplit(".", 1)
        module = importlib.import_module(module_name.replace("/", "."))
        return getattr(module, function_name)
    try:
        return get_handler(name)
    except FaultException:
        raise  # the runtime's own report (missing module, syntax error): already ours-free
    except Exception as error:
        raise _as_reported_without_us(error, FaultException) from None


_OUR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _as_reported_without_us(error: Exception, fault: Any) -> Exception:
    """The runtime reports an error raised while the function's module loads with its type,
    message and stack; from behind this shim that stack would also hold the shim's frames
    and a second import chain. The runtime passes a ``FaultException`` through as given, so
    hand it the report it would have built without us: same type, message and frames."""
    import traceback

    from .._probes.imports import TIMER_CODE

    walked = [
        (frame, line)
        for frame, line in traceback.walk_tb(error.__traceback__)
        if frame.f_code is not TIMER_CODE
        and not os.path.abspath(frame.f_code.co_filename).startswith(_OUR_DIR)
    ]
    frames: list[Any] = [
        (f.filename, f.lineno, f.name, f.line) for f in traceback.StackSummary.extract(walked)
    ]
    while frames and "/bootstrap.py" in frames[0][0]:  # the runtime strips its own
        frames.pop(0)
    try:
        message = str(error)
    except Exception:
        return error  # the runtime's own report of this is what it would say without us
    trace = traceback.format_list(frames)  # tuples, as the runtime formats them: no carets
    return fault(type(error).__name__, message, trace)


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
    return provider


def _load_our_modules() -> None:
    from .. import _api  # noqa: F401
    from .._delivery import policy  # noqa: F401


def _install_instrumentors() -> None:
    """``OTEL_LAMBDA_INIT_INSTRUMENTORS``: each loads when the function imports its library."""
    owner = sandbox()
    config = owner.config
    # Under OTEL_LAMBDA_INIT_AUTO_INSTRUMENT, opentelemetry-instrument loaded them already.
    if config.instrumentors and not config.disabled and not config.auto_instrument:
        from .instrumentors import install

        owner.timed_setup(lambda: install(config.instrumentors))


def _instrument(fn: Callable[..., Any], provider: TracerProvider) -> Callable[..., Any]:
    if getattr(fn, "__otel_lambda_init__", False):
        return fn  # the function already uses @instrument_handler
    if upstream_instruments():
        from .._api_processor import ensure_processor

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
    deferred = None
    try:
        deferred = plan_deferred(sandbox())
        if deferred is None:
            provider = _prepare()
    except Exception:
        report_once("auto-setup", "tracing setup failed; the function runs uninstrumented")
    try:
        _install_instrumentors()
    except Exception:
        report_once("auto-instrumentors", "could not set up the instrumentors")
    # The user's module is loaded next, from inside this module's import: end our import
    # record here so the user's import is the init span's child, attributed to the function.
    try:
        sandbox().records.end_open_records(time.time_ns())
    except Exception:
        report_once("auto-attribution", "could not close our own import record")
    try:
        fn = load_handler(name)
    except BaseException:
        logger.error(
            "otel-lambda-init: the function's handler %r (ORIG_HANDLER) failed to load; "
            "the runtime reports the error as it would without the wrapper",
            name,
        )
        raise
    if deferred is not None:
        try:
            wrapped = deferred.wrap(fn)  # None: the function's module needed a provider
        except Exception:
            report_once("auto-instrument", "could not wrap the handler; it runs uninstrumented")
            return fn
        if wrapped is not None:
            return wrapped
        provider = deferred.provider
    if provider is None:
        return fn
    try:
        return _instrument(fn, provider)
    except Exception:
        report_once("auto-instrument", "could not wrap the handler; it runs uninstrumented")
        return fn


handler = _build()
