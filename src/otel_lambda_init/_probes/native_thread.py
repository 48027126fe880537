"""Threads of the operating system, whatever gevent or eventlet patched (docs/safety.md).

The internal extension's thread must call ``next`` while awslambdaric blocks in its native
``next``: a green thread would never run then, and INIT would never end. And a
``threading.Thread`` alive when the function calls gevent's ``patch_all()`` makes gevent skip
fixing the import locks the function's import holds, so the import fails: a thread started
with ``_thread`` is not in ``threading.enumerate()``.
"""

from __future__ import annotations

import _thread
import sys
from collections.abc import Callable
from typing import Any


def start_native_thread(target: Callable[[], None]) -> None:
    """Run ``target`` on a new operating-system thread, unseen by ``threading``."""
    _original_start_new_thread()(target, ())


def _original_start_new_thread() -> Any:
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None:
        try:
            return gevent_monkey.get_original("_thread", "start_new_thread")
        except Exception:
            pass
    eventlet_patcher = sys.modules.get("eventlet.patcher")
    if eventlet_patcher is not None:
        try:
            if eventlet_patcher.is_monkey_patched("thread"):
                return eventlet_patcher.original("_thread").start_new_thread
        except Exception:
            pass
    return _thread.start_new_thread
