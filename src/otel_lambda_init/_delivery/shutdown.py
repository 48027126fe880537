"""SIGTERM: Lambda's notice that the sandbox shuts down, our last chance to export.

Python runs signal handlers on the main thread only; awslambdaric lets it run while it waits
for the next event only in helper-thread mode (python3.12+ managed runtimes). On
python3.10/3.11 runtimes the handler is installed but the process is killed first.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .._core.report import report_once
from .._probes.process import forked_worker, wait_for_forked_children

SHUTDOWN_EXPORT_S = 0.4
"""Of Lambda's 500 ms SIGTERM grace period for internal extensions, what we spend exporting."""
SHUTDOWN_EXPORT_EXTERNAL_S = 0.2
"""With external extensions the runtime gets 300 ms of their 2 s (AWS's emulator: 30 % of the
shutdown budget, ``runtimeDeadlineShare``, then SIGKILL): what we spend of it, leaving a
handler of the function's own that we chain to the same 100 ms as beside internal ones."""


def shutdown_budget_s(external_extensions: Callable[[], bool] | None) -> float:
    """What the export may spend of the runtime's grace."""
    try:
        external = external_extensions is not None and external_extensions()
    except Exception:
        external = False
    return SHUTDOWN_EXPORT_EXTERNAL_S if external else SHUTDOWN_EXPORT_S


DEFER_AT_MOST_S = 0.1
"""How long the export may wait for the interrupted code to let go of a lock it needs."""


def _held_stdlib_lock() -> bool:
    """Whether a non-reentrant stdlib lock the export needs is held, most likely by the code
    the signal interrupted: awslambdaric waits for the next event by starting a thread inside
    ``ThreadPoolExecutor.submit``, which holds ``concurrent.futures``' global lock, and the
    SDK's ``Resource.create`` submits to a pool of its own (a deadlock until SIGKILL)."""
    futures = sys.modules.get("concurrent.futures.thread")
    pool_lock = getattr(futures, "_global_shutdown_lock", None)
    # Thread.start holds this one; a plain lock before 3.11 (reentrant, without locked(), since)
    limbo_lock = getattr(threading, "_active_limbo_lock", None)
    for lock in (pool_lock, limbo_lock):
        locked = getattr(lock, "locked", None)
        if callable(locked) and locked():
            return True
    return False


MANAGED_INSTANCES_WAIT_S = 0.55
"""Lambda Managed Instances: how long the runtime main process waits for its workers' exports
at SIGTERM, of the platform's 600 ms before SIGKILL (docs/safety.md)."""


class SigtermHandler:
    """Ours on SIGTERM: ``on_shutdown(seconds)``, then the disposition we found acts."""

    def __init__(
        self,
        on_shutdown: Callable[[float], None],
        previous: Any,
        external_extensions: Callable[[], bool] | None = None,
    ) -> None:
        self._on_shutdown = on_shutdown
        self._external_extensions = external_extensions
        # None: a disposition set outside Python; the kernel's default is the nearest.
        self.previous = signal.SIG_DFL if previous is None else previous
        self._handling = threading.Event()
        self._held = threading.local()  # the forking thread blocked SIGTERM for its fork
        self._deferred_at: float | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        # A repeated SIGTERM runs this handler again inside the first one (same thread):
        # re-entering the export would deadlock on its locks or cut it short by exiting.
        # The first one finishes and then lets the default disposition end the process.
        if self._handling.is_set():
            return
        if self._defer():
            return
        self._handling.set()
        try:
            self._on_shutdown(shutdown_budget_s(self._external_extensions))
        except Exception:
            report_once("shutdown-export", "export at shutdown failed")
        previous = self.previous
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    def _defer(self) -> bool:
        """With a lock the export needs held, let the interrupted code go on and release it:
        a thread of the low-level kind (no ``threading`` lock to take) signals the main
        thread again once it is free, for at most ``DEFER_AT_MOST_S`` in all."""
        now = time.monotonic()
        if self._deferred_at is not None and now - self._deferred_at > DEFER_AT_MOST_S:
            return False
        if not _held_stdlib_lock():
            return False
        if self._deferred_at is None:
            self._deferred_at = now
        try:
            _thread.start_new_thread(self._signal_when_free, (self._deferred_at,))
        except RuntimeError:  # no thread to be had: export here, as without the deferral
            return False
        return True

    @staticmethod
    def _signal_when_free(since: float) -> None:
        while _held_stdlib_lock() and time.monotonic() - since < DEFER_AT_MOST_S:
            time.sleep(0.001)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)

    def step_aside(self) -> None:
        """In a process the function forked: the disposition we found, as if we were absent.

        A Python-level handler only runs when the main thread next runs bytecode: a pool
        worker that gets SIGTERM just before it blocks in a semaphore, or while it runs C
        code, would outlive ``Pool.terminate`` (a hang, docs/safety.md); the default kills it.
        """
        previous = self.previous
        if signal.getsignal(signal.SIGTERM) is self:
            signal.signal(signal.SIGTERM, previous)

    def hold_across_forks(self) -> None:
        """Keep SIGTERM blocked in the forking thread from just before a fork until the child
        has stepped aside. A SIGTERM reaching a new child first (a pool's terminate on a
        loaded host) met our Python handler: run there, it exported the parent's open
        invocation span; caught before CPython's after-fork reset, it was dropped and the
        worker outlived ``Pool.terminate`` (the 30 s hang). Blocked, the kernel keeps it
        until the default disposition acts, as without us."""
        if hasattr(signal, "pthread_sigmask"):
            from .._probes.fork_guard import around_fork

            around_fork(self._hold, self._release, self._release_in_child)

    def _hold(self) -> None:
        held = self._held
        held.blocked = False
        if signal.getsignal(signal.SIGTERM) is self:
            before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            held.blocked = signal.SIGTERM not in before

    def _release(self) -> None:
        if getattr(self._held, "blocked", False):
            self._held.blocked = False
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})

    def _release_in_child(self) -> None:
        self.step_aside()  # first: a SIGTERM held meanwhile then ends the child at once
        self._release()

    def resume(self) -> None:
        """A forked process that is the runtime after all (a SnapStart restore): ours again."""
        if signal.getsignal(signal.SIGTERM) is self.previous:
            self._handling.clear()
            self._deferred_at = None
            try:
                signal.signal(signal.SIGTERM, self)
            except ValueError:  # not on the main thread: left as the restore found it
                report_once("sigterm-restore", "could not take SIGTERM again after a restore")


def install_sigterm(
    on_shutdown: Callable[[float], None],
    external_extensions: Callable[[], bool] | None = None,
    *,
    for_forked_workers: bool = False,
) -> SigtermHandler | None:
    """On SIGTERM, run ``on_shutdown(seconds)`` then let the previous disposition act. A
    child forked from here steps aside, unless it is one of ``for_forked_workers`` (LMI's
    workers are runtimes: they keep the handler)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    handler = SigtermHandler(on_shutdown, signal.getsignal(signal.SIGTERM), external_extensions)
    signal.signal(signal.SIGTERM, handler)
    if not for_forked_workers:
        handler.hold_across_forks()
    return handler


def for_workers(on_worker_shutdown: Callable[[float], None]) -> Callable[[float], None]:
    """Lambda Managed Instances' SIGTERM, which reaches the whole process group: a forked
    worker exports its own; the runtime main process has nothing to export and waits for its
    workers, as the platform ends the sandbox when it exits."""

    def on_shutdown(budget_s: float) -> None:
        if forked_worker():
            on_worker_shutdown(budget_s)
        elif not wait_for_forked_children(MANAGED_INSTANCES_WAIT_S):
            report_once("lmi-workers", "workers still exporting when the grace ran out")

    return on_shutdown
