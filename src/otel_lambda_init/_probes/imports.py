"""Import tracing during INIT only: which imports made this cold start slow.

A finder at the front of ``sys.meta_path`` asks the other finders for the spec, then wraps
its loader so the module's execution is timed; nested imports nest because they run inside
the outer module's execution. Imports slower than ``OTEL_LAMBDA_INIT_IMPORT_THRESHOLD_MS``
become ``import {module}`` children of the init span. The finder is removed when INIT ends:
invocations pay nothing, and imports made lazily inside a handler are not traced.
"""

from __future__ import annotations

import sys
import threading
import time

from .._core import vocabulary as v
from .._core.vocabulary import CHILD_IMPORT

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from typing import Any

    from .._core.records import ChildRecords

DEFAULT_THRESHOLD_MS = 5.0
"""Stdlib and small-package imports take well under 1 ms each; anything that matters on a
cold start (a 100+ ms SDK, a model library) is far above 5 ms. 5 ms keeps a big app's INIT to
tens of spans while every import worth a look (1% of a 500 ms INIT) shows."""

ORIGIN_FUNCTION = "function"
ORIGIN_LAYER = "layer"
ORIGIN_RUNTIME = "runtime"
ORIGIN_OTHER = "other"

_NOT_WRAPPED = ("BuiltinImporter", "FrozenImporter", "NamespaceLoader", "_NamespaceLoader")


def import_origin(origin: str | None, task_root: str | None, runtime_roots: tuple[str, ...]) -> str:
    """Where a module's file came from: the function's code, a layer (``/opt``), or the
    runtime (interpreter, its standard library and the runtime's packages)."""
    if not origin or origin in ("built-in", "frozen") or not origin.startswith("/"):
        return ORIGIN_RUNTIME
    if task_root and origin.startswith(task_root.rstrip("/") + "/"):
        return ORIGIN_FUNCTION
    if origin.startswith("/opt/"):
        return ORIGIN_LAYER
    if any(origin.startswith(root) for root in runtime_roots):
        return ORIGIN_RUNTIME
    return ORIGIN_OTHER


def _runtime_roots() -> tuple[str, ...]:
    roots = {sys.base_prefix, sys.prefix, "/var/runtime", "/var/lang"}
    return tuple(sorted(r.rstrip("/") + "/" for r in roots if r))


class _TimedLoader:
    """Stands in for a module's loader while it is created and executed, then steps aside:
    the module keeps its original ``__loader__`` and ``__spec__.loader``."""

    def __init__(self, tracer: ImportTracer, loader: Any, name: str, start_ns: int) -> None:
        self._otel_loader = loader
        self._otel_tracer = tracer
        self._otel_name = name
        self._otel_start_ns = start_ns
        self._otel_record: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_otel_"):
            raise AttributeError(name)
        return getattr(self._otel_loader, name)

    def create_module(self, spec: Any) -> Any:
        tracer = self._otel_tracer
        if tracer.active:
            attrs = {
                v.IMPORT_ORIGIN: import_origin(spec.origin, tracer.task_root, tracer.runtime_roots)
            }
            self._otel_record = tracer.records.open(
                f"import {self._otel_name}", CHILD_IMPORT, self._otel_start_ns, attrs
            )
        create = getattr(self._otel_loader, "create_module", None)
        if create is None:
            return None
        try:
            return create(spec)
        except BaseException:
            self._finish(None, failed=True)
            raise

    def exec_module(self, module: Any) -> None:
        failed = True
        try:
            self._otel_loader.exec_module(module)
            failed = False
        finally:
            self._finish(module, failed=failed)

    def _finish(self, module: Any, *, failed: bool) -> None:
        end_ns = time.time_ns()
        t0 = time.perf_counter_ns()
        original = self._otel_loader
        if module is not None:
            if getattr(module, "__loader__", None) is self:
                module.__loader__ = original
            spec = getattr(module, "__spec__", None)
            if spec is not None and spec.loader is self:
                spec.loader = original
        record, self._otel_record = self._otel_record, None
        records = self._otel_tracer.records
        if record is not None:
            slow = end_ns - record.start_ns >= self._otel_tracer.threshold_ns
            if failed:
                record.error = "the import raised"
            records.close(record, end_ns, keep=slow)
        records.add_overhead(time.perf_counter_ns() - t0, bookkeeping=True)


class ImportTracer:
    """The ``sys.meta_path`` finder, writing slow imports into ``records``; at most one per
    process (the owner's)."""

    def __init__(self, records: ChildRecords, threshold_ms: float, task_root: str | None) -> None:
        self.records = records
        self.threshold_ns = int(threshold_ms * 1_000_000)
        self.task_root = task_root
        self.runtime_roots = _runtime_roots()
        self.active = True
        self._local = threading.local()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not self.active or getattr(self._local, "busy", False):
            return None
        start_ns = time.time_ns()
        self._local.busy = True
        t0 = 0
        try:
            spec = None
            for finder in list(sys.meta_path):
                if finder is self:
                    continue
                find = getattr(finder, "find_spec", None)
                if find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    break
            t0 = time.perf_counter_ns()  # the other finders' time is not ours
            if spec is not None:
                loader = spec.loader
                if (
                    loader is not None
                    and hasattr(loader, "exec_module")
                    and getattr(loader, "__name__", type(loader).__name__) not in _NOT_WRAPPED
                    and type(loader).__name__ not in _NOT_WRAPPED
                ):
                    spec.loader = _TimedLoader(self, loader, fullname, start_ns)
            return spec
        finally:
            self._local.busy = False
            if t0:
                self.records.add_overhead(time.perf_counter_ns() - t0, bookkeeping=True)

    def invalidate_caches(self) -> None:
        pass

    def start(self) -> None:
        """Go first on ``sys.meta_path`` until INIT ends."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def stop(self) -> None:
        """Remove the finder (INIT is over). Imports already in flight finish normally."""
        self.active = False
        try:  # noqa: SIM105 - contextlib is not worth importing on the INIT path
            sys.meta_path.remove(self)
        except ValueError:
            pass

    @property
    def tracing(self) -> bool:
        """True while the finder is installed (tests and diagnostics)."""
        return self.active and self in sys.meta_path
