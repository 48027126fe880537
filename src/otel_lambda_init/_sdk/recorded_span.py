"""Warm invocation spans recorded on the caller's path and built by the SDK after the response.

Creating an SDK span is most of what a live invocation span costs the caller (measured in a
sandbox: one SDK span in a bare handler adds ~0.2 ms of caller-visible time on a warm
invocation, cold caches included). Under after-response delivery the span is only exported
after the runtime posted the response anyway, so on a warm invocation the handler gets a
``RecordedSpan`` instead: a real, current API span which keeps every call made on it
(attributes, events, exceptions, status, name, links, end). Its identity (trace id, span id,
sampling flags and trace state, decided by the provider's own id generator and sampler) and
its start attributes are made the first time anything needs them, at the latest at the
build: in a sandbox with cold caches even that decision costs the caller tens of
microseconds, and most handlers never look. After the response, ``materialize`` has the
SDK start the span at its recorded start time: when nothing asked for the identity, the
provider's own tracer decides it then, exactly as for a live span; when something did, a
copy of that tracer replays the decision taken (its ``id_generator`` and ``sampler``, public
attributes). Then the calls are replayed and the span ends: what the processors and exporter
see is the span a live one would have been.

What differs from a live SDK span, said plainly: span processors' ``on_start`` runs after
the response rather than at the start (with the same parent context); the object the
handler sees is not an SDK ``ReadableSpan`` (it has ``name``, ``kind``, ``attributes``,
``start_time``, ``end_time``, ``parent``, ``status``, not the SDK's internals). Users'
spans made inside the handler are ordinary SDK spans parented to it.
``OTEL_LAMBDA_INIT_DEFER_WARM_SPANS=false`` keeps warm invocation spans live.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import Attributes

from .._core import vocabulary as v
from .._core.report import report_once

MAX_RECORDED = 128
"""Attributes, events and links kept per span before the SDK's own limits apply (its
default limit is 128 for each): a handler cannot make a recorded span grow without bound."""
MAX_PENDING = 2048
"""Recorded spans waiting to be built (the export cadence batches them); past this they are
built at once, as the SDK's batch queue would hold them."""

_RANDOM_FLAG = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)
_UNSET = Status(StatusCode.UNSET)
_SPANS_LOCK = threading.Lock()
"""One lock for every recorded span: a handler's calls on its span rarely race, and a lock
per span is one more object to make on every invocation."""


class _Scope:
    """What ``scope_name`` reads of a span: our instrumentation scope."""

    __slots__ = ("name", "version")

    def __init__(self) -> None:
        self.name = v.TRACER_NAME
        self.version = v.VERSION


_SCOPE = _Scope()


class _Replay(threading.local):
    """The decisions the next ``start_span`` on a replaying tracer takes (this thread)."""

    trace_id: int | None = None
    span_id: int | None = None
    sampling: Any = None


class _ReplayingIds:
    """The tracer's id generator, except that primed ids are handed out once."""

    def __init__(self, inner: Any, replay: _Replay) -> None:
        self.inner = inner
        self._replay = replay

    def generate_span_id(self) -> int:
        span_id, self._replay.span_id = self._replay.span_id, None
        return span_id if span_id is not None else int(self.inner.generate_span_id())

    def generate_trace_id(self) -> int:
        trace_id, self._replay.trace_id = self._replay.trace_id, None
        return trace_id if trace_id is not None else int(self.inner.generate_trace_id())

    def is_trace_id_random(self) -> bool:
        check = getattr(self.inner, "is_trace_id_random", None)
        return bool(check()) if check is not None else False


class _ReplayingSampler:
    """The tracer's sampler, except that a primed result is returned once."""

    def __init__(self, inner: Any, replay: _Replay) -> None:
        self.inner = inner
        self._replay = replay

    def should_sample(self, *args: Any, **kwargs: Any) -> Any:
        result, self._replay.sampling = self._replay.sampling, None
        return result if result is not None else self.inner.should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return str(self.inner.get_description())


class ReplayingTracer:
    """Our invocation tracer, able to record a span now and have the SDK build it later."""

    def __init__(self, tracer: Any) -> None:
        self._replay = _Replay()
        inner_ids = tracer.id_generator
        inner_sampler = tracer.sampler
        self.original = tracer
        self.tracer = copy.copy(tracer)  # the provider's own tracer is left as it is
        self.tracer.id_generator = _ReplayingIds(inner_ids, self._replay)
        self.tracer.sampler = _ReplayingSampler(inner_sampler, self._replay)
        self._ids = inner_ids
        self._sampler = inner_sampler

    @staticmethod
    def supports(tracer: Any) -> bool:
        """An SDK tracer (it has the two public attributes we replay through)."""
        return hasattr(tracer, "id_generator") and hasattr(tracer, "sampler")

    def record(
        self,
        name: str,
        parent: Context | None,
        kind: SpanKind,
        start_ns: int,
        attributes: StartAttributes,
    ) -> RecordedSpan:
        """The span the handler sees. Its identity is decided when first needed (see
        ``RecordedSpan``); ``attributes`` may be a function that returns them, called then."""
        if parent is None:
            # What the SDK would take as the parent now; kept, since at build time the
            # current context is another (after the response, or a SIGTERM mid-handler).
            parent = context_api.get_current()
        return RecordedSpan(self, name, parent, kind, start_ns, attributes)

    def decide(self, span: RecordedSpan) -> tuple[SpanContext, Any]:
        """The span's identity and sampling result, as the SDK's ``start_span`` decides them:
        the parent's trace id or a new one, the sampler asked with the start's arguments,
        then a new span id."""
        parent = span.parent_context
        found = trace.get_current_span(parent).get_span_context()
        if found.is_valid:
            trace_id = found.trace_id
            random_id = bool(getattr(found.trace_flags, "random_trace_id", False))
        else:
            trace_id = int(self._ids.generate_trace_id())
            check = getattr(self._ids, "is_trace_id_random", None)
            random_id = bool(check()) if check is not None else False
        sampling = self._sampler.should_sample(
            parent, trace_id, span.first_name, span.kind, span.start_attributes(), ()
        )
        flags = TraceFlags.SAMPLED if sampling.decision.is_sampled() else TraceFlags.DEFAULT
        if random_id:
            flags |= _RANDOM_FLAG
        context = SpanContext(
            trace_id,
            int(self._ids.generate_span_id()),
            is_remote=False,
            trace_flags=TraceFlags(flags),
            trace_state=sampling.trace_state,
        )
        return context, sampling

    def build(self, span: RecordedSpan) -> None:
        """Have the SDK start the span, replay the calls, end it. When nothing asked for
        the span's identity, the SDK decides it now exactly as for a live span (its own
        sampler and id generator, nothing replayed); else it is started with the identity
        decided when it was first asked for."""
        with span._lock:
            identity = span._identity
            if identity is None:
                span._identity = _BUILDING  # a thread asking meanwhile waits for the build
        if identity is not None:
            self._build_decided(span, identity)
            return
        # (inline, not a helper: this runs once per warm invocation, with cold caches)
        sdk_span: trace.Span | None = None
        try:
            sdk_span = self.original.start_span(
                span.first_name,
                context=span.parent_context,
                kind=span.kind,
                attributes=span.start_attributes(),
                links=span.links_at_start,
                start_time=span.start_time,
            )
        finally:
            built = sdk_span.get_span_context() if sdk_span is not None else None
            span._identity = built if built is not None else trace.INVALID_SPAN_CONTEXT
        _replay_calls(span, sdk_span)

    def _build_decided(self, span: RecordedSpan, identity: SpanContext) -> None:
        if not span.sampling.decision.is_recording():
            return  # the sampler dropped it: the SDK would not have built it either
        replay = self._replay
        replay.trace_id = identity.trace_id  # asked for only when there is no parent
        replay.span_id = identity.span_id
        replay.sampling = span.sampling
        try:
            sdk_span = self.tracer.start_span(
                span.first_name,
                context=span.parent_context,
                kind=span.kind,
                attributes=span.sampling.attributes,
                links=span.links_at_start,
                start_time=span.start_time,
            )
        finally:
            replay.trace_id = None
            replay.span_id = None
            replay.sampling = None
        built = sdk_span.get_span_context()
        if (built.trace_id, built.span_id) != (identity.trace_id, identity.span_id):
            report_once(
                "recorded-span-identity",
                "a warm invocation span was rebuilt with another identity; its children may "
                "point at a missing parent (set OTEL_LAMBDA_INIT_DEFER_WARM_SPANS=false)",
                exc_info=False,
            )
        _replay_calls(span, sdk_span)


def _replay_calls(span: RecordedSpan, sdk_span: trace.Span) -> None:
    for call, args in span.calls:
        getattr(sdk_span, call)(*args)
    sdk_span.end(end_time=span.end_time)


_BUILDING: Any = object()
"""A span's identity while the SDK builds the span that will have it."""
BUILD_WAIT_S = 1.0
"""How long a thread asking for the identity of a span being built waits for the build."""


StartAttributes = dict[str, Any] | Callable[[], dict[str, Any]]
"""A span's start attributes, or a function that makes them when they are first needed."""


class RecordedSpan(trace.Span):
    """A current invocation span whose SDK span is built after the response.

    Its identity (trace id, span id, flags, trace state) is decided the first time anything
    needs it: a child span, a propagator injecting headers, ``is_recording()``, or the build
    after the response. A handler that never looks (most warm invocations of a function that
    does not use OpenTelemetry itself) pays neither the sampler nor the id generator nor the
    start attributes before its response. The decision is the SDK's own (``decide``), taken
    once, with the arguments the start would have passed; only its moment moves.
    """

    # What every span starts with, kept on the class: one made per warm invocation, in the
    # caller's time, sets only what differs.
    end_time: int | None = None
    sampling: Any = None
    links_at_start: Sequence[Link] = ()
    status: Status = _UNSET
    instrumentation_scope = _SCOPE
    _identity: Any = None  # SpanContext once decided; _BUILDING while the SDK builds it
    _events = 0
    _links = 0
    _lock = _SPANS_LOCK

    def __init__(
        self,
        tracer: ReplayingTracer,
        name: str,
        parent_ctx: Context,
        kind: SpanKind,
        start_ns: int,
        attributes: StartAttributes,
    ) -> None:
        self._tracer = tracer
        self.first_name = name
        self.name = name
        self.parent_context = parent_ctx
        self.kind = kind
        self.start_time = start_ns
        self._start_attributes = attributes
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._set: dict[str, Any] = {}

    def start_attributes(self) -> dict[str, Any]:
        """The attributes the span started with (made once, when first needed)."""
        attributes = self._start_attributes
        if callable(attributes):
            attributes = self._start_attributes = attributes()
        return attributes

    # -- what the handler and its libraries may call ------------------------------------------
    def get_span_context(self) -> SpanContext:
        identity = self._identity
        if identity is _BUILDING:
            return self._built_identity()
        if identity is None:
            decided, sampling = self._tracer.decide(self)  # outside the lock: user code
            with self._lock:
                if self._identity is None:  # another thread may have decided meanwhile
                    self._identity, self.sampling = decided, sampling
                identity = self._identity
            if identity is _BUILDING:  # or the build began meanwhile: the SDK decides
                return self._built_identity()
        return identity

    def _built_identity(self) -> SpanContext:
        """The identity the SDK gives the span being built (another thread builds it: a
        thread of the handler's still running after it returned); bounded."""
        deadline = time.monotonic() + BUILD_WAIT_S
        while self._identity is _BUILDING and time.monotonic() < deadline:
            time.sleep(0.0005)
        identity = self._identity
        return identity if isinstance(identity, SpanContext) else trace.INVALID_SPAN_CONTEXT

    @property
    def context(self) -> SpanContext:
        return self.get_span_context()

    @property
    def parent(self) -> SpanContext | None:
        found = trace.get_current_span(self.parent_context).get_span_context()
        return found if found.is_valid else None

    def is_recording(self) -> bool:
        if self.end_time is not None:
            return False
        self.get_span_context()
        return bool(self.sampling.decision.is_recording())

    @property
    def attributes(self) -> Mapping[str, Any]:
        self.get_span_context()
        sampling = self.sampling  # None when the SDK decided at the build
        start = sampling.attributes if sampling is not None else self.start_attributes()
        return {**(start or {}), **self._set}

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_attribute(self, key: str, value: Any) -> None:
        with self._lock:
            if self.end_time is not None:
                return
            if key not in self._set and len(self._set) >= MAX_RECORDED:
                return
            if isinstance(value, list):
                value = tuple(value)  # as the SDK copies it: later changes are not recorded
            self._set[key] = value
            self.calls.append(("set_attribute", (key, value)))

    def add_event(
        self, name: str, attributes: Attributes = None, timestamp: int | None = None
    ) -> None:
        self._keep(
            "add_event",
            (name, _copy(attributes), time.time_ns() if timestamp is None else timestamp),
            "events",
        )

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        self._keep("add_link", (context, _copy(attributes)), "links")

    def update_name(self, name: str) -> None:
        with self._lock:
            if self.end_time is None:
                self.name = name
                self.calls.append(("update_name", (name,)))

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        with self._lock:
            if self.end_time is not None:
                return
            self.status = status if isinstance(status, Status) else Status(status, description)
            self.calls.append(("set_status", (status, description)))

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        stamp = time.time_ns() if timestamp is None else timestamp
        # The exception (and its traceback's frames) is kept until the span is built: right
        # after the response, or at the next export under an export cadence.
        self._keep("record_exception", (exception, _copy(attributes), stamp, escaped), "events")

    def end(self, end_time: int | None = None) -> None:
        with self._lock:
            if self.end_time is not None:
                return  # the first end wins, as the SDK's does
            self.end_time = time.time_ns() if end_time is None else end_time

    def _keep(self, call: str, args: tuple[Any, ...], budget: str) -> None:
        with self._lock:
            if self.end_time is not None:
                return
            count = self._events if budget == "events" else self._links
            if count >= MAX_RECORDED:
                return
            if budget == "events":
                self._events += 1
            else:
                self._links += 1
            self.calls.append((call, args))

    # -- after the response ---------------------------------------------------------------------
    def materialize(self) -> None:
        if self.end_time is None:
            self.end(time.time_ns())  # never left open: the SDK span must end
        try:
            self._tracer.build(self)
        finally:
            self.calls = []  # the exception objects hold the handler's frames


def _copy(attributes: Attributes) -> Attributes:
    """The attributes as they are now (the SDK copies them when they are given)."""
    return dict(attributes) if attributes else attributes


class RecordedSpans:
    """Recorded invocation spans of this sandbox waiting to be built (oldest first)."""

    def __init__(self) -> None:
        self._pending: list[RecordedSpan] = []
        self._lock = threading.Lock()

    def add(self, span: RecordedSpan) -> bool:
        """Keep ``span`` until the next export; False when too many wait (build it now)."""
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                return False
            self._pending.append(span)
            return True

    def __len__(self) -> int:
        return len(self._pending)

    def materialize(self) -> int:
        """Build every ended span that waits (an open one stays for a later call)."""
        with self._lock:
            pending = self._pending
            if not pending:
                return 0
            ready = [s for s in pending if s.end_time is not None]
            self._pending = (
                [] if len(ready) == len(pending) else [s for s in pending if s.end_time is None]
            )
        for span in ready:
            try:
                span.materialize()
            except Exception:
                report_once("recorded-span-build", "could not build a warm invocation span")
        return len(ready)
