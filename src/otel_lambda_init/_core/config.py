"""Every ``OTEL_LAMBDA_INIT_*`` variable, documented and parsed in one place; the docs page
(docs/configuration.md) is rendered from this module by scripts/render_config_docs.py.

Each ``OTEL_LAMBDA_INIT_*`` variable is read once, by ``load_config``. A bad value never
stops the function: it is reported once (naming the variable and the accepted values) and the
default is used. Durations are milliseconds; above 10^12 ms (about 31 years) they read as
10^12 ms, "never".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from .report import logger as _logger
from .vocabulary import FLUSH_MODES, TRACE_MODES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .vocabulary import FlushMode, TraceMode

OTEL_LAMBDA_INIT_TRACE = "OTEL_LAMBDA_INIT_TRACE"
"""Where the init span goes: ``auto`` (default: a cold start someone waited for joins the
first invocation's trace, other INITs get their own trace), ``first-invocation`` (always in
the first invocation's trace, gap included) or ``separate`` (always its own trace, opened
during INIT and exported when INIT ends)."""

OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS = "OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS"
"""An on-demand sandbox whose first invocation starts more than this many ms after INIT
started was initialized proactively. A number >= 0 (default 10000: on-demand INIT is capped
at 10 s)."""

OTEL_LAMBDA_INIT_IDLE_GAP_MS = "OTEL_LAMBDA_INIT_IDLE_GAP_MS"
"""An on-demand sandbox whose runtime waited more than this many ms for its first event after
INIT ended (less its wait for a CPU) sat ready with nobody waiting: proactive. Default 10 where
Linux says how long the runtime waited for a CPU (Lambda's Runtime API hands a pending request
over in a millisecond or two), 50 where it does not (Bref's field value), 2000 when external
extensions are present (their INIT can end hundreds of ms after the runtime's, which a real
cold start's gap then includes); 0 turns the idle-gap rule off (the 10 s rule alone). A request
whose trigger says when it was received is judged by that first
(``OTEL_LAMBDA_INIT_EVENT_TIME_TOLERANCE_MS``)."""

OTEL_LAMBDA_INIT_EVENT_TIME_TOLERANCE_MS = "OTEL_LAMBDA_INIT_EVENT_TIME_TOLERANCE_MS"
"""How far apart, in ms, the trigger's clock (API Gateway, Function URLs, VPC Lattice) and the
sandbox's may be (default 10). A request received more than this before INIT end waited for
it, more than this after it did not (``classified_by=event-time``); closer than this, the
idle-gap rules decide. 0 trusts the clocks exactly; docs/verdicts.md says where 10 comes from."""

OTEL_LAMBDA_INIT_EXTENSIONS_DIR = "OTEL_LAMBDA_INIT_EXTENSIONS_DIR"
"""Where Lambda finds external extensions (default ``/opt/extensions``, where layers put
them); any executable there means INIT may end after the runtime's first ``next``."""

DEFAULT_EXTENSIONS_DIR = "/opt/extensions"

OTEL_LAMBDA_INIT_FLUSH = "OTEL_LAMBDA_INIT_FLUSH"
"""How spans leave the sandbox: ``after-response`` (default inside Lambda: exported on the
runtime's thread after the caller has its response, before the runtime asks for the next
event), ``sync`` (flushed before the handler returns) or ``none`` (something else flushes;
the default outside a Lambda runtime, where nothing freezes the process: no flush thread, no
wait)."""

OTEL_LAMBDA_INIT_SPAN_OUTSIDE_LAMBDA = "OTEL_LAMBDA_INIT_SPAN_OUTSIDE_LAMBDA"
"""Outside a Lambda runtime (no ``AWS_LAMBDA_RUNTIME_API``: unit tests, local scripts), emit
the init span on the first invocation anyway (default false: a process that is not a Lambda
sandbox has no INIT to report)."""

OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS = "OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS"
"""Upper bound on one flush, in ms: a number > 0 (default 2000). A collector extension on
localhost answers in milliseconds; waiting the upstream's 30 s on a dead one only bills the
user."""

OTEL_LAMBDA_INIT_IMPORT_THRESHOLD_MS = "OTEL_LAMBDA_INIT_IMPORT_THRESHOLD_MS"
"""Imports during INIT slower than this many ms become ``import {module}`` spans (default 5)."""

OTEL_LAMBDA_INIT_RECORD_UNSAMPLED = "OTEL_LAMBDA_INIT_RECORD_UNSAMPLED"
"""Export the init span even when the first invocation is not sampled (default true)."""

OTEL_LAMBDA_INIT_AUTO_INSTRUMENT = "OTEL_LAMBDA_INIT_AUTO_INSTRUMENT"
"""Exec wrapper only: also run OpenTelemetry's auto-instrumentation (default false: it costs
hundreds of ms of INIT)."""

OTEL_LAMBDA_INIT_INSTRUMENTORS = "OTEL_LAMBDA_INIT_INSTRUMENTORS"
"""Exec wrapper only: OpenTelemetry instrumentors to load in this process, each when its
library is first imported: ``none`` (default), ``all`` (every installed one, found by one
entry-point scan, minus ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``) or their entry-point names,
comma-separated (``botocore,requests,urllib3``: no scan)."""

OTEL_LAMBDA_INIT_DEFERRED_INIT = "OTEL_LAMBDA_INIT_DEFERRED_INIT"
"""Exec wrapper only: when nothing needs a live span before the first response (no
OpenTelemetry imported, after-response delivery), build the INIT's and the first
invocation's spans after that response instead of importing the SDK during INIT
(default true)."""

OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS = "OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS"
"""After-response mode: export at most every this many ms, batching the spans of the
invocations in between (default 0: after every invocation). Spans waiting for the next
export are flushed at SIGTERM (python3.12+ runtimes); on 3.10/3.11 a sandbox shut down
meanwhile loses them (at most this many ms of invocations)."""

OTEL_LAMBDA_INIT_DISABLED = "OTEL_LAMBDA_INIT_DISABLED"
"""Turn the package off: handlers run unwrapped, no spans (default false)."""

OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES = "OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES"
"""Record an exception's message on our spans (default true, as the SDK does; cut at 256
characters). ``false`` keeps the exception's type and stack and leaves the message out, for
functions whose errors quote personal data from their events (a validation error's
``input_value=...``)."""

OTEL_SDK_DISABLED = "OTEL_SDK_DISABLED"
"""OpenTelemetry's standard off switch: ``true`` (the SDK's only accepted value) turns this
package off as ``OTEL_LAMBDA_INIT_DISABLED`` does: no extension, thread, hook or import
tracer, and the exec wrapper starts the runtime untouched."""

OTEL_LAMBDA_INIT_PRICE_X86_64 = "OTEL_LAMBDA_INIT_PRICE_X86_64"
"""USD per GB-second used for ``lambda_init.estimated_cost_usd`` on x86_64 (default
0.0000166667, the first-tier on-demand list price)."""

OTEL_LAMBDA_INIT_PRICE_ARM64 = "OTEL_LAMBDA_INIT_PRICE_ARM64"
"""USD per GB-second used for ``lambda_init.estimated_cost_usd`` on arm64 (default
0.0000133334, the first-tier on-demand list price)."""

OTEL_LAMBDA_INIT_ARCHITECTURE = "OTEL_LAMBDA_INIT_ARCHITECTURE"
"""The function's architecture for the cost estimate: ``x86_64`` or ``arm64``. Lambda does
not expose it, so it defaults to the machine's."""

ARCHITECTURES = ("x86_64", "arm64")
MAX_MS = 1e12
"""Durations above this (about 31 years) mean "never" and are read as this: in nanoseconds it
still fits a 64-bit integer, in seconds it is a valid thread timeout."""
TRUE_VALUES = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class Config(NamedTuple):
    """The package's settings after parsing; keyword arguments may override fields."""

    trace_mode: TraceMode = "auto"
    proactive_threshold_ms: float = 10_000.0
    idle_gap_ms: float | None = None  # None: the default for the sandbox (extensions or not)
    event_time_tolerance_ms: float = 10.0  # classify.DEFAULT_EVENT_TIME_TOLERANCE_MS
    extensions_dir: str = DEFAULT_EXTENSIONS_DIR
    flush: FlushMode = "sync"
    flush_timeout_ms: float = 2_000.0
    import_threshold_ms: float = 5.0
    record_unsampled_init: bool = True
    auto_instrument: bool = False
    instrumentors: tuple[str, ...] = ()  # ("all",) or entry-point names; () loads none
    disabled: bool = False
    record_exception_messages: bool = True
    init_span_outside_lambda: bool = False
    deferred_init: bool = True
    export_interval_ms: float = 0.0
    price_x86_64: float = 0.0000166667
    price_arm64: float = 0.0000133334
    architecture: str = "x86_64"

    def with_overrides(self, **overrides: Any) -> Config:
        """Keyword arguments win over environment variables; ``None`` means "not given"."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if "flush" in given and given["flush"] not in FLUSH_MODES:
            raise ValueError(
                f"flush must be one of {', '.join(FLUSH_MODES)}; got {given['flush']!r}"
            )
        if "trace_mode" in given and given["trace_mode"] not in TRACE_MODES:
            raise ValueError(
                f"trace_mode must be one of {', '.join(TRACE_MODES)}; got {given['trace_mode']!r}"
            )
        return self._replace(**given)


_warned: set[str] = set()


def _warn_once(name: str, value: str, accepted: str, default: object) -> None:
    if name in _warned:
        return
    _warned.add(name)
    _logger.warning(
        "otel-lambda-init: ignoring %s=%r: accepted values are %s; using the default %r",
        name,
        value,
        accepted,
        default,
    )


def _choice(env: Mapping[str, str], name: str, choices: tuple[Any, ...], default: Any) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in choices:
        return value
    _warn_once(name, raw, " | ".join(choices), default)
    return default


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    allow_zero: bool = True,
    maximum: float | None = MAX_MS,
) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value != value or value in (float("inf"),) or value < 0 or (value == 0 and not allow_zero):
        lower = "a number >= 0" if allow_zero else "a number > 0"
        _warn_once(name, raw, lower, default)
        return default
    return value if maximum is None else min(value, maximum)


def _optional_number(env: Mapping[str, str], name: str) -> float | None:
    """A number >= 0, or None when unset (the default depends on the sandbox)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    value = _number(env, name, -1.0)
    return None if value < 0 else value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in _FALSE:
        return False
    _warn_once(name, raw, "true | false", default)
    return default


def _names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of names; ``none`` or unset is empty, ``all`` stands alone."""
    names = tuple(n.strip() for n in (env.get(name) or "").split(",") if n.strip())
    if names == ("none",):
        return ()
    if ("all" in names or "none" in names) and len(names) > 1:
        _warn_once(name, env.get(name) or "", "none | all | name,name,...", "none")
        return ()
    return names


def _machine_architecture() -> str:
    return "arm64" if os.uname().machine.lower() in ("aarch64", "arm64") else "x86_64"


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Parse every ``OTEL_LAMBDA_INIT_*`` variable; invalid values fall back to defaults."""
    env = os.environ if environ is None else environ
    default_flush = "after-response" if env.get("AWS_LAMBDA_RUNTIME_API") else "none"
    defaults = Config()
    return Config(
        trace_mode=_choice(env, OTEL_LAMBDA_INIT_TRACE, TRACE_MODES, defaults.trace_mode),
        proactive_threshold_ms=_number(
            env, OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS, defaults.proactive_threshold_ms
        ),
        idle_gap_ms=_optional_number(env, OTEL_LAMBDA_INIT_IDLE_GAP_MS),
        event_time_tolerance_ms=_number(
            env, OTEL_LAMBDA_INIT_EVENT_TIME_TOLERANCE_MS, defaults.event_time_tolerance_ms
        ),
        extensions_dir=(env.get(OTEL_LAMBDA_INIT_EXTENSIONS_DIR) or "").strip()
        or DEFAULT_EXTENSIONS_DIR,
        flush=_choice(env, OTEL_LAMBDA_INIT_FLUSH, FLUSH_MODES, default_flush),
        flush_timeout_ms=_number(
            env, OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS, defaults.flush_timeout_ms, allow_zero=False
        ),
        import_threshold_ms=_number(
            env, OTEL_LAMBDA_INIT_IMPORT_THRESHOLD_MS, defaults.import_threshold_ms
        ),
        record_unsampled_init=_flag(
            env, OTEL_LAMBDA_INIT_RECORD_UNSAMPLED, defaults.record_unsampled_init
        ),
        auto_instrument=_flag(env, OTEL_LAMBDA_INIT_AUTO_INSTRUMENT, defaults.auto_instrument),
        instrumentors=_names(env, OTEL_LAMBDA_INIT_INSTRUMENTORS),
        disabled=_flag(env, OTEL_LAMBDA_INIT_DISABLED, defaults.disabled)
        or (env.get(OTEL_SDK_DISABLED) or "").strip().lower() == "true",
        record_exception_messages=_flag(
            env, OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES, defaults.record_exception_messages
        ),
        init_span_outside_lambda=_flag(
            env, OTEL_LAMBDA_INIT_SPAN_OUTSIDE_LAMBDA, defaults.init_span_outside_lambda
        ),
        deferred_init=_flag(env, OTEL_LAMBDA_INIT_DEFERRED_INIT, defaults.deferred_init),
        export_interval_ms=_number(
            env, OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS, defaults.export_interval_ms
        ),
        price_x86_64=_number(
            env, OTEL_LAMBDA_INIT_PRICE_X86_64, defaults.price_x86_64, maximum=None
        ),
        price_arm64=_number(env, OTEL_LAMBDA_INIT_PRICE_ARM64, defaults.price_arm64, maximum=None),
        architecture=_choice(
            env, OTEL_LAMBDA_INIT_ARCHITECTURE, ARCHITECTURES, _machine_architecture()
        ),
    )
