"""User phases of INIT (``init_phase``) and an explicit INIT end (``init_done``).

A phase used during INIT is buffered (no TracerProvider is needed yet) and emitted as a child
of the init span, nested under the enclosing phase or import. Used after INIT, e.g. for lazy
loading inside a handler, it is an ordinary span in the current trace.
"""

from __future__ import annotations

import functools
import time

from ._core.exceptions import message_of, status_description
from ._core.report import report_once
from ._core.vocabulary import CHILD, CHILD_PHASE, END_INIT_DONE, TRACER_NAME
from ._owner import sandbox

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


class init_phase:  # noqa: N801 - used like a function: ``with init_phase("load model"):``
    """Time a part of INIT as a child span of the init span: a context manager and a
    decorator. Nesting follows the code: a phase inside a phase is its child."""

    def __init__(self, name: str, attributes: dict[str, Any] | None = None) -> None:
        self.name = name
        self.attributes = dict(attributes or {})
        self._record: Any = None
        self._span: Any = None
        self._token: Any = None

    def __enter__(self) -> init_phase:
        try:
            owner = sandbox()
            if owner.init_in_progress:
                self._record = owner.records.open(
                    self.name, CHILD_PHASE, time.time_ns(), dict(self.attributes)
                )
            else:
                from opentelemetry import context, trace

                tracer = owner.provider().get_tracer(TRACER_NAME)
                attrs = {CHILD: CHILD_PHASE, **self.attributes}
                self._span = tracer.start_span(self.name, attributes=attrs)
                self._token = context.attach(trace.set_span_in_context(self._span))
        except Exception:
            report_once("init-phase", "could not start an init phase")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            record, self._record = self._record, None
            if record is not None:
                if exc is not None:
                    with_message = sandbox().config.record_exception_messages
                    message = message_of(exc) if with_message else None
                    record.error = status_description(type(exc).__name__, message)
                sandbox().records.close(record, time.time_ns())
            span, self._span = self._span, None
            if span is not None:
                from opentelemetry import context

                from ._sdk.spans import record_error

                try:  # noqa: SIM105
                    context.detach(self._token)
                except Exception:
                    pass  # the phase's body switched contexts: nothing left to undo
                if exc is not None:
                    record_error(span, exc, with_message=sandbox().config.record_exception_messages)
                span.end()
        except Exception:
            report_once("init-phase", "could not end an init phase")

    def __call__(self, fn: F) -> F:
        name, attributes = self.name, self.attributes

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with init_phase(name, attributes):  # a fresh one per call: re-entrant
                return fn(*args, **kwargs)

        return timed  # type: ignore[return-value]


def init_done() -> None:
    """Mark INIT as finished now, where the runtime's first request for an event cannot be
    observed (a custom runtime loop, a test). Later calls, and the runtime's own signal after
    this one, change nothing."""
    try:
        sandbox().end_init(time.time_ns(), END_INIT_DONE)
    except Exception:
        report_once("init-done", "could not mark INIT end")
