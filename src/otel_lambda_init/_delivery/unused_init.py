"""At SIGTERM on the deferred wrapper route, an INIT nobody used leaves without the SDK.

There the SDK was never imported, and importing it (with the resources, the sampler and the
exporter's encoder) costs ~40 ms of CPU: at 128 MB (7 % of a vCPU) that is ~550 ms of the
runtime's 300-500 ms of grace, and the init span was lost. For the configurations whose
result the SDK would not change (the OTLP exporter alone to a loopback collector, a standard
sampler, the standard Resource detectors, default span limits and ids) the span is composed
from the same ``_core.init_span`` functions as the SDK emitter's, encoded by ``otlp_wire`` and
posted in one request. Anything else takes the SDK path. See docs/safety.md.
"""

from __future__ import annotations

import os
import random
import sys
import time
from urllib.parse import unquote

from .._core import init_span
from .._core import vocabulary as v
from .._core.environment import traces_exporters, user_named_service
from .._sdk.verdict import first_invocation_verdict
from .loopback import loopback_collector, request_headers
from .otlp_wire import STATUS_CODE_ERROR, WireScope, WireSpan, export_request

TYPE_CHECKING = False  # typing costs ms at import; this module is on the shutdown path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from .._core.config import Config
    from .._core.environment import SandboxEnvironment
    from .._core.records import ChildRecords
    from .._core.timeline import InitRecord

KEEPS_INIT, DROPS_ALL, NEEDS_SDK = "keeps-init", "drops-all", "needs-sdk"
_ALWAYS = ("always_on", "parentbased_always_on")
_NEVER = ("always_off", "parentbased_always_off")
_RATIO = ("traceidratio", "parentbased_traceidratio")
_SDK_ONLY = (  # settings whose effect only the SDK knows: then the SDK path runs
    "OTEL_PYTHON_ID_GENERATOR",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
)


def sampling(environ: Mapping[str, str]) -> str:
    """What ``InitSpanSampler`` around the configured sampler does with an init span: keep
    it, drop everything (a sampler that samples no new trace), or only the SDK can tell."""
    name = (environ.get("OTEL_TRACES_SAMPLER") or "parentbased_always_on").strip().lower()
    if name in _ALWAYS:
        return KEEPS_INIT
    if name in _NEVER:
        return DROPS_ALL
    if name not in _RATIO:
        return NEEDS_SDK
    try:
        rate = float(environ.get("OTEL_TRACES_SAMPLER_ARG") or 1.0)
    except ValueError:
        return NEEDS_SDK
    if not 0.0 <= rate <= 1.0:
        return NEEDS_SDK
    return KEEPS_INIT if rate > 0.0 else DROPS_ALL


def _exporter(environ: Mapping[str, str]) -> str | None:
    names = [n for n in traces_exporters(environ) if n not in ("", "none")]
    return names[0] if len(names) == 1 else ("none" if not names else None)


def _env_resource(environ: Mapping[str, str]) -> dict[str, Any]:
    """The SDK's ``OTELResourceDetector``: ``OTEL_RESOURCE_ATTRIBUTES`` (percent-decoded
    values) and ``OTEL_SERVICE_NAME`` over it."""
    attributes: dict[str, Any] = {}
    for item in (environ.get("OTEL_RESOURCE_ATTRIBUTES") or "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():  # the SDK drops an empty key
            attributes[key.strip()] = unquote(value.strip())
    service = environ.get("OTEL_SERVICE_NAME")
    if service:
        attributes["service.name"] = service
    return attributes


def resource_attributes(
    env: SandboxEnvironment, environ: Mapping[str, str], sdk_version: str, executable: str = ""
) -> dict[str, Any]:
    """What ``_sdk.provider.sandbox_resource`` makes with ``Resource.create``: the SDK's
    defaults under the environment's attributes; ours over both, unless the user named the
    service (then theirs win)."""
    created: dict[str, Any] = {
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.version": sdk_version,
        **_env_resource(environ),
    }
    if _release(sdk_version) >= (1, 43):  # its ServiceInstanceIdResourceDetector, first
        created = {"service.instance.id": _uuid4(), **created}
    ours: dict[str, Any] = dict(env.resource_attributes())
    if not user_named_service(environ):
        ours["service.name"] = env.function_name
        created.update(ours)
        ours = {}
    if not created.get("service.name"):
        unknown = "unknown_service"
        if executable and _release(sdk_version) >= (1, 45):  # before: the process detector's
            unknown += f":{os.path.basename(executable)}"
        created["service.name"] = unknown
    return {**ours, **created}


def _release(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _uuid4() -> str:
    """A random UUID, as ``str(uuid.uuid4())`` (whose module imports ``platform``: ~15 ms)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def why_sdk_needed(environ: Mapping[str, str]) -> str | None:
    """None when the SDK would export exactly what this module composes; else the setting."""
    if _exporter(environ) not in ("otlp", "none"):
        return "OTEL_TRACES_EXPORTER"
    if sampling(environ) == NEEDS_SDK:
        return "OTEL_TRACES_SAMPLER"
    detectors = (environ.get("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS") or "otel").split(",")
    if {d.strip() for d in detectors} - {"otel", ""}:
        return "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS"
    for name in _SDK_ONLY:
        if environ.get(name):
            return name
    if _exporter(environ) == "otlp" and loopback_collector(environ) is None:
        return "a collector that is not plain HTTP on this machine"
    return None


def _id(bits: int) -> bytes:
    value = 0
    while not value:
        value = random.getrandbits(bits)
    return value.to_bytes(bits // 8, "big")


def compose(
    env: SandboxEnvironment,
    init: InitRecord,
    records: ChildRecords,
    config: Config,
    verdict_attributes: dict[str, Any],
    now_ns: int,
) -> list[WireSpan]:
    """The init span of an unused INIT and its children, as the SDK emitter makes them."""
    end_ns = init.end_ns if init.end_ns is not None else now_ns
    attributes = {**init_span.base_attributes(env, init), **verdict_attributes}
    attributes.update(init_span.init_cost_attributes(init, end_ns, config, env, records))
    trace_id, root_id = _id(128), _id(64)
    start_ns = init_span.span_start_ns(init, records)
    name = init_span.init_span_name(env, init.phase)
    spans = [WireSpan(trace_id, root_id, b"", name, start_ns, end_ns, attributes)]
    made: dict[int, bytes] = {}
    children = init_span.child_records(init, records, end_ns)
    for record, parent, child_attributes in init_span.with_parents(children):
        parent_id = made[id(parent)] if parent is not None else root_id
        span_id = made[id(record)] = _id(64)
        status = (STATUS_CODE_ERROR, record.error) if record.error else (0, None)
        spans.append(
            WireSpan(
                trace_id, span_id, parent_id, record.name, record.start_ns,
                record.end_ns or end_ns, child_attributes, status,
            )
        )  # fmt: skip
    return spans


def export_unused_init(
    env: SandboxEnvironment,
    init: InitRecord,
    records: ChildRecords,
    config: Config,
    extensions_present: Callable[[], bool],
    environ: Mapping[str, str],
    now_ns: int,
    budget_s: float,
) -> bool:
    """Send the unused INIT's spans without the SDK. False when the SDK path must run (a
    setting only it knows); True when it was sent, or there was nothing to send, or the
    send failed (said once: the SDK's exporter could do no better in the time left)."""
    deadline = time.monotonic() + budget_s
    if why_sdk_needed(environ) is not None:
        return False
    if _exporter(environ) == "none" or sampling(environ) == DROPS_ALL:
        return True
    collector = loopback_collector(environ)
    if collector is None:  # (why_sdk_needed said so already; the records are not taken yet)
        return False
    from opentelemetry.sdk.version import __version__ as sdk_version

    verdict = first_invocation_verdict(
        config, env, init, now_ns, extensions_present, init_span.span_start_ns(init, records)
    )
    spans = compose(env, init, records, config, init_span.unused_attributes(verdict), now_ns)
    resource = resource_attributes(env, environ, sdk_version, sys.executable)
    body = export_request([WireScope(resource, v.TRACER_NAME, v.VERSION, spans)])
    headers = request_headers(collector, environ)
    collector.post(collector.encode(body), headers, deadline)
    return True
