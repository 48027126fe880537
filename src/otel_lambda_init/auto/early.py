"""The earliest moment our code runs in the runtime process, and what has to start there.

Called from the wrapper's ``sitecustomize`` (as the interpreter starts, before the runtime
client is imported), from ``opentelemetry-instrument``'s pre-instrument hook (before the
upstream instrumentor imports the user's module), or at the latest from the handler shim.
Only the first call does anything. Nothing here may raise.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

FIRST_LINE_NS = time.time_ns()
"""When this module was first imported: our first line in the process on the wrapper route."""

_started_by: str | None = None
_first_line_ns = FIRST_LINE_NS
_runtime_client_was_loaded: bool | None = None


def started_by() -> str | None:
    """Which way in ran first: ``sitecustomize``, ``opentelemetry-instrument`` or ``shim``."""
    return _started_by


def first_line_ns() -> int:
    """When our code first ran in this process (epoch ns)."""
    return _first_line_ns


def runtime_client_was_loaded() -> bool | None:
    """Whether the runtime client was already imported when our code first ran."""
    return _runtime_client_was_loaded


def start(source: str, first_line_ns: int | None = None) -> None:
    """Pin the sandbox timeline, start import tracing and watch for the runtime client."""
    global _started_by, _first_line_ns, _runtime_client_was_loaded
    if _started_by is not None:
        return
    _started_by = source
    if first_line_ns is not None:
        _first_line_ns = first_line_ns
    _runtime_client_was_loaded = any(
        name in sys.modules for name in ("awslambdaric", "lambda_runtime_client")
    )
    try:
        from ..timeline import sandbox_timeline

        sandbox_timeline()  # INIT start: /proc, else this moment (far earlier than the shim)
    except Exception:
        _report("timeline", "could not read the INIT start")
    start_import_tracing()
    when_runtime_client_loaded(on_runtime_client_loaded)


def pre_instrument() -> None:
    """``opentelemetry_pre_instrument`` entry point: runs before any instrumentor."""
    try:
        from ..config import load_config

        if load_config().disabled:
            return
        start("opentelemetry-instrument")
    except Exception:
        _report("pre-instrument", "the pre-instrument hook failed")


def start_import_tracing() -> None:
    """Call site for the import tracer (``otel_lambda_init.imports``), as early as we run."""
    try:
        from ..imports import start_import_tracing as start_tracing
    except ImportError:
        return
    try:
        start_tracing()
    except Exception:
        _report("import-tracing", "could not start import tracing")


def on_runtime_client_loaded() -> None:
    """The runtime client exists now: hook its ``next`` call before INIT can end."""
    try:
        from .. import _claims
        from ..timeline import watch_runtime_next

        watch_runtime_next()
        _claims.watch_runtime_window()
    except Exception:
        _report("runtime-hooks", "could not hook the runtime client")
    try:
        from ..anatomy import install_runtime_hooks
    except ImportError:
        return
    try:
        install_runtime_hooks()
    except Exception:
        _report("runtime-hooks", "could not hook the runtime client")


def when_runtime_client_loaded(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the Lambda runtime client module has been imported (now, if it
    already is). A meta-path finder that only answers for that module, removed after use."""
    from ..runtime_client import RUNTIME_CLIENT_MODULES, runtime_client_loaded

    if runtime_client_loaded():
        callback()
        return
    sys.meta_path.insert(0, _RuntimeClientWatcher(RUNTIME_CLIENT_MODULES, callback))


class _RuntimeClientWatcher(importlib.abc.MetaPathFinder):
    def __init__(self, names: tuple[str, ...], callback: Callable[[], None]) -> None:
        self.names = names
        self.callback = callback

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.names:
            return None
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None and spec.loader is not None:
                    spec.loader = _CallbackLoader(spec.loader, self._done)
                    return spec
        except Exception:
            _report("runtime-watch", "could not watch for the runtime client")
        return None

    def _done(self) -> None:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        self.callback()


class _CallbackLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, after: Callable[[], None]) -> None:
        self._loader = loader
        self._after = after

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._after()

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, ... for tracebacks
        return getattr(self._loader, name)


def _report(kind: str, message: str) -> None:
    try:
        from .._safety import report_once

        report_once(f"auto-{kind}", message)
    except Exception:
        sys.stderr.write(f"otel-lambda-init: {message}\n")
