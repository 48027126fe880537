"""SIGTERM: Lambda's notice that the sandbox shuts down, our last chance to export.

Python runs signal handlers on the main thread only; awslambdaric lets it run while it waits
for the next event only in helper-thread mode (python3.12+ managed runtimes). On
python3.10/3.11 runtimes the handler is installed but the process is killed first.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from .._core.report import report_once

SHUTDOWN_EXPORT_S = 0.4
"""Of Lambda's 500 ms SIGTERM grace period for internal extensions, what we spend exporting."""


def install_sigterm(on_shutdown: Callable[[float], None]) -> bool:
    """On SIGTERM, run ``on_shutdown(seconds)`` then let the previous disposition act."""
    if threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(signal.SIGTERM)
    handling = threading.Event()

    def on_sigterm(signum: int, frame: Any) -> None:
        # A repeated SIGTERM runs this handler again inside the first one (same thread):
        # re-entering the export would deadlock on its locks or cut it short by exiting.
        # The first one finishes and then lets the default disposition end the process.
        if handling.is_set():
            return
        handling.set()
        # A process the handler forked (a multiprocessing pool ends its workers with SIGTERM)
        # inherits this handler: its owner is inert there (probes/fork_guard.py), so only the
        # default disposition acts.
        try:
            on_shutdown(SHUTDOWN_EXPORT_S)
        except Exception:
            report_once("shutdown-export", "export at shutdown failed")
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
    return True
