"""What the INIT bar is made of: recorded during INIT, emitted as children of the init span.

Imports (``imports.py``), user phases (``phases.py``), the runtime's boot before our first line,
our own setup, and an earlier attempt that timed out are buffered here as plain records, so
they can be taken before any TracerProvider exists. Nothing here imports OpenTelemetry at
module level: this module is loaded at our first line, on the INIT path.
"""

from __future__ import annotations

import os
import sys
import threading
import time

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from typing import Any

    from .spans import InitSpanEmitter

KIND_IMPORT = "import"
KIND_PHASE = "phase"
KIND_RUNTIME = "runtime"
KIND_SETUP = "setup"
KIND_FAILED_ATTEMPT = "failed-attempt"

SETUP_SPAN_NAME = "otel-lambda-init setup"
RUNTIME_SPAN_NAME = "runtime"
MAX_RECORDS = 512
"""Bound on buffered child records: a huge app must not turn INIT into thousands of spans."""


class ChildRecord:
    """One child of the init span, with absolute times in ns since the epoch."""

    __slots__ = ("name", "kind", "start_ns", "end_ns", "parent", "attributes", "error", "kept")

    def __init__(
        self,
        name: str,
        kind: str,
        start_ns: int,
        attributes: dict[str, Any] | None = None,
        parent: ChildRecord | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.start_ns = start_ns
        self.end_ns: int | None = None
        self.parent = parent
        self.attributes = attributes or {}
        self.error: str | None = None
        self.kept = True

    def __repr__(self) -> str:
        dur = None if self.end_ns is None else (self.end_ns - self.start_ns) / 1e6
        return f"ChildRecord({self.name!r}, {self.kind}, {dur} ms)"


class Anatomy:
    """The buffer of child records plus our own cost, one per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.records: list[ChildRecord] = []
        self.dropped = 0
        self.first_line_ns: int | None = None
        self.overhead_ns = 0
        self.setup_depth = 0
        self.handler_module_was_importing = False
        self.cpu_ns_at_init_end: int | None = None
        self.began = False

    # -- recording --------------------------------------------------------------------------
    def stack(self) -> list[ChildRecord]:
        stack: list[ChildRecord] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def open(
        self, name: str, kind: str, start_ns: int, attributes: dict[str, Any] | None = None
    ) -> ChildRecord:
        """Start a record nested under whatever record this thread has open."""
        stack = self.stack()
        record = ChildRecord(name, kind, start_ns, attributes, stack[-1] if stack else None)
        stack.append(record)
        return record

    def close(self, record: ChildRecord, end_ns: int, *, keep: bool = True) -> None:
        """End a record; ``keep=False`` forgets it (an import under the threshold)."""
        record.end_ns = end_ns
        stack = self.stack()
        if stack and stack[-1] is record:
            stack.pop()
        elif record in stack:
            stack.remove(record)
        record.kept = keep
        if keep:
            self.add(record)

    def add(self, record: ChildRecord) -> None:
        """Keep a finished record for emission (bounded)."""
        with self._lock:
            if len(self.records) >= MAX_RECORDS:
                self.dropped += 1
                return
            self.records.append(record)

    def add_overhead(self, ns: int, *, bookkeeping: bool = False) -> None:
        """Count our own time; import-tracer bookkeeping inside a setup stretch is already
        inside that stretch."""
        if bookkeeping and self.setup_depth:
            return
        self.overhead_ns += ns  # a lost update under a race costs a few µs of reporting

    def take(self) -> list[ChildRecord]:
        """Hand the finished records over for emission; the buffer starts afresh."""
        with self._lock:
            records, self.records = self.records, []
        return records

    def reset(self) -> None:
        """Forget everything (SnapStart restore: the publish-time INIT was reported)."""
        with self._lock:
            self.records = []
            self.dropped = 0
        self._local = threading.local()
        self.first_line_ns = None
        self.overhead_ns = 0
        self.cpu_ns_at_init_end = None


anatomy = Anatomy()


def in_lambda(environ: Any = None) -> bool:
    """Inside a sandbox (a Runtime API exists) and not turned off."""
    from .config import OTEL_LAMBDA_INIT_DISABLED, TRUE_VALUES

    env = os.environ if environ is None else environ
    if not env.get("AWS_LAMBDA_RUNTIME_API"):
        return False
    return (env.get(OTEL_LAMBDA_INIT_DISABLED) or "").strip().lower() not in TRUE_VALUES


def handler_module_name(environ: Any = None) -> str | None:
    env = os.environ if environ is None else environ
    handler = env.get("ORIG_HANDLER") or env.get("_HANDLER") or ""
    if "." not in handler:
        return None
    return handler.rsplit(".", 1)[0].replace("/", ".")


_begin_lock = threading.Lock()


def begin(first_line_ns: int | None = None) -> None:
    """Our code is running for the first time in this process: note when, and start watching
    the INIT (import tracing, sandbox-local state, runtime hooks). Safe to call many times;
    only the first call inside a sandbox does anything."""
    with _begin_lock:
        if anatomy.began:
            return
        anatomy.began = True
    t0 = time.perf_counter_ns()
    anatomy.first_line_ns = first_line_ns or time.time_ns()
    if not in_lambda():
        return
    module = handler_module_name()
    anatomy.handler_module_was_importing = module is not None and module in sys.modules
    try:
        from . import imports

        imports.start_import_tracing()
        from .timeline import sandbox_timeline

        sandbox_timeline().on_init_end(_on_init_end)
        _begin_local_state()
        install_runtime_hooks()
    except Exception:
        from ._safety import report_once

        report_once("anatomy-begin", "could not start watching INIT")
    finally:
        anatomy.add_overhead(time.perf_counter_ns() - t0, bookkeeping=True)


def _begin_local_state() -> None:
    if (os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") or "").strip() == "snap-start":
        return  # the snapshot would copy per-sandbox state into every restored sandbox
    from . import local_state

    local_state.begin_init_in_process()


_hooks_installed = False


def install_runtime_hooks() -> bool:
    """Hook the runtime client (once it is loaded): INIT end, init errors, restore, and the
    per-invocation counter. Returns True when the runtime client was found."""
    global _hooks_installed
    if _hooks_installed:
        return True
    from .runtime_client import hook_runtime_client, runtime_client_loaded

    if not runtime_client_loaded():
        return False
    _hooks_installed = True
    from . import local_state, snapstart
    from .timeline import sandbox_timeline, watch_runtime_next

    watch_runtime_next()
    sandbox_timeline().on_init_end(_on_init_end)
    hook_runtime_client("post_init_error", "init-error", before=_on_init_error)
    # Count served invocations once the response is posted: the state file's write (~0.4 ms)
    # then happens after the caller has its answer, not between the event and the handler.
    for posted in ("post_invocation_result", "post_invocation_error"):
        hook_runtime_client(posted, "local-state", after=local_state.on_invocation)
    snapstart.install()
    return True


def _on_init_end(_end_ns: int) -> None:
    if anatomy.cpu_ns_at_init_end is not None:
        return  # registered from more than one place; the first call counts
    anatomy.cpu_ns_at_init_end = time.process_time_ns()
    from . import imports, local_state

    imports.stop_import_tracing()
    local_state.on_init_done()


def _on_init_error(args: tuple[Any, ...]) -> None:
    """The runtime is about to report an INIT error and exit: export the init span first."""
    from . import imports, local_state

    imports.stop_import_tracing()
    anatomy.cpu_ns_at_init_end = time.process_time_ns()
    error = args[0] if args and isinstance(args[0], dict) else {}
    local_state.on_init_error()
    from .state import sandbox_state

    sandbox_state().emitter.on_init_error(time.time_ns(), error)


def decorate_init_span(
    emitter: InitSpanEmitter, provider: Any, span: Any, start_ns: int, end_ns: int
) -> None:
    """Give an init span about to end its anatomy: cost and CPU attributes, and child spans
    for the runtime's boot, our setup, slow imports, user phases and failed attempts."""
    from opentelemetry import trace

    from . import classify
    from .spans import init_tracer

    config, env = emitter.config, emitter.env
    phase = emitter.timeline.init.phase
    cpu_ns = anatomy.cpu_ns_at_init_end
    if cpu_ns is None:
        cpu_ns = time.process_time_ns()
    attrs: dict[str, Any] = {}
    if phase != classify.PHASE_RESTORE:
        attrs["lambda_init.cpu_ms"] = round(cpu_ns / classify.NS_PER_MS, 3)
    price = classify.price_per_gb_second(
        config.architecture, config.price_x86_64, config.price_arm64
    )
    attrs.update(
        classify.cost_attributes((end_ns - start_ns) / classify.NS_PER_MS, env.memory_mb, price)
    )
    attrs["lambda_init.overhead_ms"] = round(anatomy.overhead_ns / classify.NS_PER_MS, 3)
    from . import local_state

    attrs.update(local_state.init_span_attributes())
    if anatomy.dropped:
        attrs["lambda_init.children_dropped"] = anatomy.dropped
    span.set_attributes(attrs)

    tracer = init_tracer(provider, config.record_unsampled_init)
    taken = [r for r in anatomy.take() if r.start_ns < end_ns and r.end_ns is not None]
    # Parents before children: a parent starts first (or at the same ns, one level up).
    taken.sort(key=lambda r: (r.start_ns, _depth(r)))
    records = _fixed_records(start_ns, phase) + taken
    made: dict[int, Any] = {}
    for record in records:
        if record.end_ns is None:
            continue
        parent = record.parent
        while parent is not None and id(parent) not in made:
            parent = parent.parent
        parent_span = made[id(parent)] if parent is not None else span
        attributes = {"lambda_init.child": record.kind, **record.attributes}
        child = tracer.start_span(
            record.name,
            context=trace.set_span_in_context(parent_span),
            kind=trace.SpanKind.INTERNAL,
            start_time=record.start_ns,
            attributes=attributes,
        )
        if record.error:
            child.set_status(trace.Status(trace.StatusCode.ERROR, record.error))
        child.end(end_time=record.end_ns)
        made[id(record)] = child


def _depth(record: ChildRecord) -> int:
    depth, parent = 0, record.parent
    while parent is not None:
        depth, parent = depth + 1, parent.parent
    return depth


def _fixed_records(init_start_ns: int, phase: str) -> list[ChildRecord]:
    """The runtime's boot (process start to our first line) and our own import."""
    first = anatomy.first_line_ns
    if first is None or phase == "restore" or first < init_start_ns:
        return []
    runtime = ChildRecord(RUNTIME_SPAN_NAME, KIND_RUNTIME, init_start_ns)
    runtime.end_ns = first
    if anatomy.handler_module_was_importing:
        # Manual route: the handler module had started before it imported us, so its code
        # up to ``import otel_lambda_init`` is inside this bar.
        runtime.attributes["lambda_init.runtime.includes_handler_code"] = True
    return [runtime]


def open_setup(start_ns: int) -> ChildRecord:
    """Start a stretch of our own setup (package import, lazy imports of our modules)."""
    anatomy.setup_depth += 1
    return anatomy.open(SETUP_SPAN_NAME, KIND_SETUP, start_ns)


def close_setup(record: ChildRecord) -> None:
    """End a stretch of our own setup."""
    anatomy.setup_depth = max(0, anatomy.setup_depth - 1)
    end_ns = time.time_ns()
    anatomy.close(record, end_ns)
    anatomy.add_overhead(end_ns - record.start_ns)


def timed_setup(load: Any) -> Any:
    """Run ``load()`` (one of our own lazy imports) as a stretch of setup."""
    record = open_setup(time.time_ns())
    try:
        return load()
    finally:
        close_setup(record)
