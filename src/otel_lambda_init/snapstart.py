"""SnapStart: report the publish-time INIT once, and each restore as its sandbox's cold start.

awslambdaric runs the before-snapshot hooks, blocks in ``restore_next`` while the snapshot is
taken and later restored, then runs the after-restore hooks and asks for the first event.
Hooked on the runtime client: before ``restore_next`` the INIT ends, its span is exported and
everything is flushed (no per-sandbox state is written before the snapshot); right after it,
the restore starts: ``random`` is reseeded (the SDK's ids come from it: restored copies would
otherwise emit the same trace and span ids), exporter connections are dropped, and a
``restore {faas.name}`` span runs until the runtime asks for the first event.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SNAP_START = "snap-start"
START_SOURCE_RESTORE = "restore-next"

_installed = False


def enabled() -> bool:
    return (os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") or "").strip() == SNAP_START


def install() -> bool:
    """Hook ``restore_next`` in a SnapStart function (once). True when hooked."""
    global _installed
    if _installed or not enabled():
        return _installed
    from .runtime_client import hook_runtime_client

    _installed = hook_runtime_client(
        "restore_next", "snapstart", before=before_snapshot, after=after_restore
    )
    return _installed


def before_snapshot(_args: tuple[Any, ...] = ()) -> None:
    """INIT of the snapshot is over: export its span (once, here) and flush everything."""
    from .state import sandbox_state

    state = sandbox_state()
    now = time.time_ns()
    state.timeline.mark_init_end(now, "restore-next")
    provider = state.emitter._get_provider()
    state.emitter.emit_own_trace(provider, now)
    from .flush import flusher

    flusher.flush(provider, state.config.flush_timeout_ms / 1000.0)


def after_restore(_args: tuple[Any, ...] = ()) -> None:
    """This is a restored sandbox: new ids, new connections, a new cold start to report."""
    restore_start = time.time_ns()
    reseed_ids()
    import random

    from . import local_state
    from .anatomy import anatomy
    from .state import sandbox_state
    from .timeline import InitRecord

    state = sandbox_state()
    try:
        reset_connections(state.emitter._get_provider())
    except Exception:
        from ._safety import report_once

        report_once("snapstart-connections", "could not reset exporter connections")
    anatomy.reset()
    state.timeline.init = InitRecord(restore_start, START_SOURCE_RESTORE, phase="restore")
    state.emitter.begin_restore()
    local_state.reset_for_tests()
    local_state.begin_init_in_process(key=f"restore-{random.getrandbits(64):016x}")


def reseed_ids() -> None:
    """Reseed ``random`` from ``os.urandom``: the SDK's trace and span ids come from it, and
    every restored copy of the snapshot starts with the same state."""
    import random

    random.seed()


def reset_connections(provider: Any) -> int:
    """Drop pooled connections of the provider's exporters (they point into the snapshot's
    past); clients reconnect on their next export. Returns how many pools were reset."""
    reset = 0
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        nonlocal reset
        if depth > 10 or id(obj) in seen:
            return
        seen.add(id(obj))
        module = type(obj).__module__ or ""
        name = type(obj).__name__
        if module.startswith("requests") and name == "Session":
            obj.close()  # clears the adapters' pools; the session stays usable
            reset += 1
            return
        if module.startswith("urllib3") and name in ("PoolManager", "ProxyManager"):
            obj.clear()
            reset += 1
            return
        if not module.startswith(("opentelemetry", "otel_lambda_init")):
            return
        values: list[Any] = []
        if hasattr(obj, "__dict__"):
            values.extend(vars(obj).values())
        for slot in getattr(type(obj), "__slots__", ()):
            values.append(getattr(obj, slot, None))
        for value in values:
            if isinstance(value, (list, tuple)):
                for item in value:
                    walk(item, depth + 1)
            elif value is not None and hasattr(value, "__dict__"):
                walk(value, depth + 1)

    walk(provider, 0)
    return reset
