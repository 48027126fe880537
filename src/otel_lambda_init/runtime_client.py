"""Guarded hooks on the Lambda runtime client (awslambdaric), found wherever it is loaded.

The runtime's own calls are the only place where INIT end, "response posted" and
"init error reported" can be observed from inside the process. Each hook wraps a method of
``LambdaRuntimeClient`` on the class; if the client is absent or looks different, nothing is
changed and callers fall back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ._safety import report_once

# awslambdaric as a package (pip, python3.12+ managed runtimes) or top-level modules in
# /var/runtime (older managed runtimes).
RUNTIME_CLIENT_MODULES = ("awslambdaric.lambda_runtime_client", "lambda_runtime_client")

_wrapped: set[tuple[str, str, str]] = set()


def runtime_client_loaded() -> bool:
    """True in the runtime process itself (a child process never loads the client)."""
    return any(
        getattr(sys.modules.get(name), "LambdaRuntimeClient", None) is not None
        for name in RUNTIME_CLIENT_MODULES
    )


def hook_runtime_client(
    method: str,
    key: str,
    *,
    before: Callable[[tuple[Any, ...]], None] | None = None,
    after: Callable[[tuple[Any, ...]], None] | None = None,
) -> bool:
    """Call ``before(args)`` / ``after(args)`` around ``LambdaRuntimeClient.<method>``.

    ``key`` names the hook so installing it twice is harmless. The callbacks are guarded:
    their failures are logged once and never reach the runtime. Returns True when the
    method was found (now or by an earlier call).
    """
    found = False
    for module_name in RUNTIME_CLIENT_MODULES:
        client_cls = getattr(sys.modules.get(module_name), "LambdaRuntimeClient", None)
        original = getattr(client_cls, method, None)
        if client_cls is None or original is None:
            continue
        found = True
        if (module_name, method, key) in _wrapped:
            continue
        _wrapped.add((module_name, method, key))
        setattr(client_cls, method, _wrap(original, method, key, before, after))
    return found


def _wrap(
    original: Callable[..., Any],
    method: str,
    key: str,
    before: Callable[[tuple[Any, ...]], None] | None,
    after: Callable[[tuple[Any, ...]], None] | None,
) -> Callable[..., Any]:
    def hooked(self: Any, *args: Any, **kwargs: Any) -> Any:
        if before is not None:
            try:
                before(args)
            except Exception:
                report_once(f"hook-{key}", f"the {key} hook on {method} failed")
        result = original(self, *args, **kwargs)
        if after is not None:
            try:
                after(args)
            except Exception:
                report_once(f"hook-{key}", f"the {key} hook on {method} failed")
        return result

    hooked.__wrapped__ = original  # type: ignore[attr-defined]
    hooked.__name__ = getattr(original, "__name__", method)
    return hooked
