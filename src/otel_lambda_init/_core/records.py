"""What the INIT bar is made of, recorded during INIT as plain records (no SDK needed yet).

Imports, user phases, the runtime's boot before our first line, our own setup, and an
earlier attempt that timed out are buffered here and emitted as children of the init span
once a TracerProvider exists. Times are passed in; nothing here reads a clock.
"""

from __future__ import annotations

import threading

from .vocabulary import CHILD_SETUP

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from typing import Any

    from .vocabulary import ChildKind

SETUP_SPAN_NAME = "otel-lambda-init setup"
RUNTIME_SPAN_NAME = "runtime"
MAX_RECORDS = 512
"""Bound on buffered child records: a huge app must not turn INIT into thousands of spans."""


class ChildRecord:
    """One child of the init span, with absolute times in ns since the epoch."""

    __slots__ = (
        "name",
        "kind",
        "start_ns",
        "end_ns",
        "parent",
        "attributes",
        "error",
        "kept",
        "cut_ns",
    )

    def __init__(
        self,
        name: str,
        kind: ChildKind,
        start_ns: int,
        attributes: dict[str, Any] | None = None,
        parent: ChildRecord | None = None,
        end_ns: int | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.parent = parent
        self.attributes = attributes or {}
        self.error: str | None = None
        self.kept = True
        self.cut_ns: int | None = None  # ends here whatever runs later inside it

    @property
    def depth(self) -> int:
        depth, parent = 0, self.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        return depth

    def __repr__(self) -> str:
        dur = None if self.end_ns is None else (self.end_ns - self.start_ns) / 1e6
        return f"ChildRecord({self.name!r}, {self.kind}, {dur} ms)"


class ChildRecords:
    """The buffer of child records and the count of our own cost, one per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.records: list[ChildRecord] = []
        self.dropped = 0
        self.overhead_ns = 0
        self.setup_depth = 0

    # -- recording --------------------------------------------------------------------------
    def stack(self) -> list[ChildRecord]:
        stack: list[ChildRecord] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def open(
        self, name: str, kind: ChildKind, start_ns: int, attributes: dict[str, Any] | None = None
    ) -> ChildRecord:
        """Start a record nested under whatever record this thread has open."""
        stack = self.stack()
        while stack and stack[-1].end_ns is not None:
            stack.pop()  # closed from another thread (a phase handed over): not a parent
        record = ChildRecord(name, kind, start_ns, attributes, stack[-1] if stack else None)
        stack.append(record)
        return record

    def close(self, record: ChildRecord, end_ns: int, *, keep: bool = True) -> None:
        """End a record; ``keep=False`` forgets it (an import under the threshold)."""
        if record.cut_ns is not None:
            end_ns = min(end_ns, record.cut_ns)
        record.end_ns = end_ns
        stack = self.stack()
        if stack and stack[-1] is record:
            stack.pop()
        elif record in stack:
            stack.remove(record)
        record.kept = keep
        if keep:
            self.add(record)

    def end_open_records(self, end_ns: int) -> None:
        """End every record this thread has open at ``end_ns`` and start afresh: what runs
        next (the user's module, loaded from inside our handler shim's import) becomes a
        child of the init span, never of our own ``import otel_lambda_init...`` record."""
        stack = self.stack()
        for record in stack:
            record.cut_ns = end_ns
        stack.clear()

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

    # -- our own setup stretches -----------------------------------------------------------
    def open_setup(self, start_ns: int) -> ChildRecord:
        """Start a stretch of our own setup (package import, lazy imports of our modules)."""
        self.setup_depth += 1
        return self.open(SETUP_SPAN_NAME, CHILD_SETUP, start_ns)

    def close_setup(self, record: ChildRecord, end_ns: int) -> None:
        self.setup_depth = max(0, self.setup_depth - 1)
        self.close(record, end_ns)
        self.add_overhead(end_ns - record.start_ns)

    def take(self, before_ns: int) -> list[ChildRecord]:
        """Hand over the finished records that started before ``before_ns``, parents before
        children; the buffer starts afresh."""
        with self._lock:
            records, self.records = self.records, []
        taken = [r for r in records if r.start_ns < before_ns and r.end_ns is not None]
        # A parent starts first (or at the same ns, one level up).
        taken.sort(key=lambda r: (r.start_ns, r.depth))
        return taken

    def reset(self) -> None:
        """Forget everything (SnapStart restore: the publish-time INIT was reported)."""
        with self._lock:
            self.records = []
            self.dropped = 0
        self._local = threading.local()
        self.overhead_ns = 0
