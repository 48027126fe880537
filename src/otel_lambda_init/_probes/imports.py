"""Import tracing during INIT only: which imports made this cold start slow.

A finder at the front of ``sys.meta_path`` asks the other finders for the spec, then times
the module's execution on the real loader (the spec and loader are left as they are); nested
imports nest because they run inside the outer module's execution. Imports slower than
``OTEL_LAMBDA_INIT_IMPORT_THRESHOLD_MS`` become ``import {module}`` children of the init span.
The finder is removed when INIT ends: invocations pay nothing, and imports made lazily inside
a handler are not traced. While our own setup runs (``ChildRecords.setup_depth``: loading an
instrumentor, building the provider) it steps aside: those imports are our cost, timed as the
setup span, not the function's slow imports.
"""

from __future__ import annotations

import sys
import threading
import time

from .._core import vocabulary as v
from .._core.vocabulary import CHILD_IMPORT
from .import_watch import spec_from_other_finders

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


class _ExecTimer:
    """Times one module's execution without standing in for its loader.

    It sits on the real loader *instance* as ``exec_module`` for the one import the finder
    just answered, and removes itself before the module's code runs: the module sees its real
    ``__loader__`` and ``__spec__.loader`` (``isinstance`` checks, ``pkg_resources``,
    ``importlib.resources``, zip imports). A loader shared by several modules (a zipimporter)
    keeps the timer while any of its imports is pending; an import it does not know runs
    untimed.
    """

    def __init__(self, tracer: ImportTracer, loader: Any) -> None:
        self._tracer = tracer
        self._loader = loader
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def attach(tracer: ImportTracer, loader: Any, name: str, start_ns: int) -> bool:
        """Time ``name``'s execution by ``loader``; False when the loader cannot carry us."""
        if isinstance(loader, type):
            return False  # a class used as a loader: patching it would touch every module
        current = getattr(loader, "__dict__", {}).get("exec_module")
        timer = getattr(current, "__self__", None)
        if not isinstance(timer, _ExecTimer):
            if current is not None:
                return False  # the instance already overrides exec_module: leave it alone
            timer = _ExecTimer(tracer, loader)
            try:
                loader.exec_module = timer.exec_module
            except Exception:
                return False  # __slots__, a C loader, a frozen attribute: untimed
            tracer.timers.append(timer)
        with timer._lock:
            timer._pending[name] = start_ns
        return True

    def detach(self) -> None:
        """INIT is over: forget imports that were found but never executed."""
        with self._lock:
            self._pending.clear()
            if getattr(self._loader, "__dict__", {}).get("exec_module") == self.exec_module:
                try:  # noqa: SIM105
                    del self._loader.exec_module
                except AttributeError:
                    pass

    def _step_aside(self, name: str) -> int | None:
        with self._lock:
            start_ns = self._pending.pop(name, None)
            if not self._pending:
                try:  # noqa: SIM105 - contextlib is not worth importing on the INIT path
                    del self._loader.exec_module
                except AttributeError:
                    pass
        return start_ns

    def exec_module(self, module: Any) -> None:
        name = getattr(module, "__name__", None)
        start_ns = self._step_aside(name) if isinstance(name, str) else None
        real = type(self._loader).exec_module
        if start_ns is None or not self._tracer.active:
            real(self._loader, module)
            return
        record = self._tracer.records.open(f"import {name}", CHILD_IMPORT, start_ns)
        try:
            real(self._loader, module)
        except BaseException:
            self._close(record, module, failed=True)
            raise
        self._close(record, module, failed=False)

    def _close(self, record: Any, module: Any, *, failed: bool) -> None:
        end_ns = time.time_ns()
        t0 = time.perf_counter_ns()
        tracer = self._tracer
        slow = end_ns - record.start_ns >= tracer.threshold_ns
        if slow:  # only a kept record needs its origin: most imports are fast
            origin = getattr(getattr(module, "__spec__", None), "origin", None)
            record.attributes[v.IMPORT_ORIGIN] = import_origin(
                origin, tracer.task_root, tracer.runtime_roots
            )
        if failed:
            record.error = "the import raised"
        tracer.records.close(record, end_ns, keep=slow)
        tracer.records.add_overhead(time.perf_counter_ns() - t0, bookkeeping=True)


# The interpreter trims importlib's own frames from the traceback of an error raised by a
# module's code (its import machinery, up to ``_call_with_frames_removed``); a frame of ours
# in the middle would stop that and show five frames the function never has. Timing is one
# step of the import machinery: its frame carries importlib's name, and is trimmed with it.
_ExecTimer.exec_module.__code__ = _ExecTimer.exec_module.__code__.replace(
    co_filename="<frozen importlib._bootstrap_external>"
)
TIMER_CODE = _ExecTimer.exec_module.__code__
"""The timer's code: a report built from a traceback by hand leaves its frame out too."""


class ImportTracer:
    """The ``sys.meta_path`` finder, writing slow imports into ``records``; at most one per
    process (the owner's)."""

    def __init__(self, records: ChildRecords, threshold_ms: float, task_root: str | None) -> None:
        self.records = records
        # Bounded: an absurd threshold means "no import is slow", never an OverflowError.
        self.threshold_ns = int(min(max(threshold_ms, 0.0), 1e12) * 1_000_000)
        self.task_root = task_root
        self.runtime_roots = _runtime_roots()
        self.active = True
        self.timers: list[_ExecTimer] = []
        self._local = threading.local()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        # Our own setup's imports (the instrumentors, OpenTelemetry, our modules) are our
        # cost, already timed as such: not the function's slow imports, and not traced.
        if not self.active or self.records.setup_depth or getattr(self._local, "busy", False):
            return None
        start_ns = time.time_ns()
        self._local.busy = True
        t0 = 0
        try:
            spec = spec_from_other_finders(self, fullname, path, target)
            t0 = time.perf_counter_ns()  # the other finders' time is not ours
            if spec is not None:
                loader = spec.loader
                if (
                    loader is not None
                    and hasattr(type(loader), "exec_module")
                    and type(loader).__name__ not in _NOT_WRAPPED
                ):
                    _ExecTimer.attach(self, loader, fullname, start_ns)
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
        timers, self.timers = self.timers, []
        for timer in timers:
            timer.detach()

    @property
    def tracing(self) -> bool:
        """True while the finder is installed (tests and diagnostics)."""
        return self.active and self in sys.meta_path
