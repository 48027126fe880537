"""Run a callback the moment a given module has been imported, before its importer gets it.

A finder first on ``sys.meta_path`` that answers only for the watched modules: it asks the
other finders for the spec, lets a stand-in loader execute the module with the real loader,
gives the module its real loader and spec back, and calls back. It removes itself after the
first time. Used to hook the runtime client as soon as it loads, and to notice the first
``import opentelemetry.trace`` on the deferred wrapper route.
"""

from __future__ import annotations

import sys
import threading

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class _NotifyingLoader:
    """Stands in for the module's loader while it executes, then steps aside."""

    def __init__(self, loader: Any, on_loaded: Callable[[], None]) -> None:
        self._otel_loader = loader
        self._otel_on_loaded = on_loaded

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_otel_"):
            raise AttributeError(name)
        return getattr(self._otel_loader, name)

    def create_module(self, spec: Any) -> Any:
        create = getattr(self._otel_loader, "create_module", None)
        return None if create is None else create(spec)

    def exec_module(self, module: Any) -> None:
        self._otel_loader.exec_module(module)
        # The import tracer's loader may sit inside ours: leave the module the real one.
        original = self._otel_loader
        while "_otel_loader" in getattr(original, "__dict__", {}):
            original = original.__dict__["_otel_loader"]
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = original
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = original
        self._otel_on_loaded()  # the callback guards itself: the import must not fail


def spec_from_other_finders(me: Any, fullname: str, path: Any, target: Any) -> Any:
    """The spec the finders on ``sys.meta_path`` other than ``me`` give for ``fullname``
    (the first one's), None when none does: a finder that only wraps loaders asks them."""
    for finder in list(sys.meta_path):
        find = getattr(finder, "find_spec", None)
        if finder is me or find is None:
            continue
        spec = find(fullname, path, target)
        if spec is not None:
            return spec
    return None


class ImportWatch:
    """A ``sys.meta_path`` finder that calls ``on_loaded`` once one of ``watched`` has
    executed; it removes itself after the first time."""

    def __init__(self, watched: tuple[str, ...], on_loaded: Callable[[], None]) -> None:
        self._on_loaded = on_loaded
        self._watched = watched
        self._local = threading.local()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in self._watched or getattr(self._local, "busy", False):
            return None
        self._local.busy = True
        try:
            spec = spec_from_other_finders(self, fullname, path, target)
            if spec is not None and hasattr(spec.loader, "exec_module"):
                self.stop()
                spec.loader = _NotifyingLoader(spec.loader, self._on_loaded)
            return spec
        finally:
            self._local.busy = False

    def invalidate_caches(self) -> None:
        pass

    def start(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def stop(self) -> None:
        try:  # noqa: SIM105 - contextlib is not worth importing on the INIT path
            sys.meta_path.remove(self)
        except ValueError:
            pass
