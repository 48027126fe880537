"""What the init span says: its name, start, attributes, cost and the runtime's boot, as plain
data. The SDK emitter and the SDK-free shutdown export both compose the span from these."""

from __future__ import annotations

from . import classify
from . import vocabulary as v
from .config import Config
from .environment import SandboxEnvironment
from .records import RUNTIME_SPAN_NAME, ChildRecord, ChildRecords
from .timeline import InitRecord
from .vocabulary import CHILD_RUNTIME, PHASE_RESTORE

TYPE_CHECKING = False  # typing costs ms at import; this module is on the shutdown path
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


def init_span_name(env: SandboxEnvironment, phase: str = v.PHASE_INIT) -> str:
    """``init {faas.name}``; a SnapStart sandbox's cold start is ``restore {faas.name}``."""
    return f"{'restore' if phase == PHASE_RESTORE else 'init'} {env.function_name}"


def base_attributes(env: SandboxEnvironment, init: InitRecord) -> dict[str, Any]:
    """What every init span carries from its start (the sampler sees ``start_source``)."""
    attrs: dict[str, Any] = {
        v.FAAS_NAME: env.function_name,
        v.INITIALIZATION_TYPE: env.initialization_type,
        v.PHASE: init.phase,
        v.START_SOURCE: init.start_source,
    }
    if env.log_stream_name:
        attrs[v.FAAS_INSTANCE] = env.log_stream_name
    if init.end_source:
        attrs[v.END_SOURCE] = init.end_source
    return attrs


def span_start_ns(init: InitRecord, records: ChildRecords) -> int:
    """INIT start; for an INIT re-run after a timeout, the failed attempt's start, so its
    child (the failed attempt) lies within it: the caller waited through both."""
    return min([init.start_ns] + [r.start_ns for r in list(records.records)])


def unused_attributes(verdict: classify.InitVerdict) -> dict[str, Any]:
    """An INIT no invocation used (reported at shutdown): no first invocation, no gap, and
    nobody waited for it."""
    attributes: dict[str, Any] = classify.init_attributes(verdict)
    attributes.pop(v.GAP_MS, None)
    attributes.pop(v.CLASSIFIED_BY, None)
    attributes[v.FAAS_COLDSTART] = False
    attributes[v.UNUSED] = True
    return attributes


def init_cost_attributes(
    init: InitRecord, end_ns: int, config: Config, env: SandboxEnvironment, records: ChildRecords
) -> dict[str, Any]:
    """CPU, billed duration, estimated cost, our overhead and what earlier processes did."""
    attrs: dict[str, Any] = {}
    if init.phase != PHASE_RESTORE and init.cpu_ns is not None:
        attrs[v.CPU_MS] = round(init.cpu_ns / classify.NS_PER_MS, 3)
    price = classify.price_per_gb_second(
        config.architecture, config.price_x86_64, config.price_arm64
    )
    duration_ms = (end_ns - init.start_ns) / classify.NS_PER_MS
    attrs.update(classify.cost_attributes(duration_ms, env.memory_mb, price))
    attrs[v.OVERHEAD_MS] = round(records.overhead_ns / classify.NS_PER_MS, 3)
    attrs.update(init.history)
    if records.dropped:
        attrs[v.CHILDREN_DROPPED] = records.dropped
    return attrs


def runtime_record(init: InitRecord) -> ChildRecord | None:
    """The runtime's boot: process start to our first line (not for a restore)."""
    first = init.first_line_ns
    if first is None or init.phase == PHASE_RESTORE or first < init.start_ns:
        return None
    runtime = ChildRecord(RUNTIME_SPAN_NAME, CHILD_RUNTIME, init.start_ns, end_ns=first)
    if init.handler_code_before_us:
        # Manual route: the handler module had started before it imported us, so its code
        # up to ``import otel_lambda_init`` is inside this bar.
        runtime.attributes[v.RUNTIME_INCLUDES_HANDLER_CODE] = True
    return runtime


def child_records(init: InitRecord, records: ChildRecords, end_ns: int) -> list[ChildRecord]:
    """The init span's children, parents before children: the runtime's boot, then what was
    buffered during INIT (taken: each is reported once)."""
    runtime = runtime_record(init)
    return ([runtime] if runtime is not None else []) + records.take(end_ns)


def with_parents(
    records: list[ChildRecord],
) -> Iterator[tuple[ChildRecord, ChildRecord | None, dict[str, Any]]]:
    """Each ended record (parents listed before children) with its nearest ended ancestor
    (None: the init span itself) and its span's attributes; a record never ended is left
    out and its children move up to its parent."""
    ended: set[int] = set()
    for record in records:
        if record.end_ns is None:
            continue
        parent = record.parent
        while parent is not None and id(parent) not in ended:
            parent = parent.parent
        ended.add(id(record))
        yield record, parent, {v.CHILD: record.kind, **record.attributes}
