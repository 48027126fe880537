"""When this process started: the real beginning of INIT as the runtime process sees it."""

from __future__ import annotations

import os
import sys
import time


def parent_start_ns() -> int | None:
    """Epoch ns at which the parent process started (an LMI worker's runtime main process)."""
    return process_start_ns(f"/proc/{os.getppid()}/stat")


def thread_cpu_wait_ns() -> int | None:
    """How long this thread has waited, runnable, for a CPU (Linux schedstat ``run_delay``;
    a CPU quota's throttling counts): time in a blocking call that was not idleness."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as stat:
            return int(stat.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None


def server_worker_process() -> bool:
    """True in a web server's worker process: forked by its master (gunicorn: same
    executable, same command line, or gunicorn's retitled master) or spawned by
    multiprocessing (``uvicorn --workers``). The sandbox's INIT began when the master started,
    and other workers serve requests too."""
    try:
        if os.readlink(f"/proc/{os.getppid()}/exe") != os.readlink("/proc/self/exe"):
            return False
        with open("/proc/self/cmdline", "rb") as f:
            own = f.read(4096)
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            parent = f.read(4096)
    except OSError:
        return False
    return own == parent or b"multiprocessing" in own or parent.startswith(b"gunicorn: master")


def process_start_ns(stat_path: str = "/proc/self/stat") -> int | None:
    """Epoch ns at which this process started (exec keeps it: a wrapper script counts too).

    ``/proc/self/stat`` field 22 is clock ticks since boot (CLOCK_BOOTTIME); ticks are
    usually 10 ms, and rounding down keeps the start at or before the real one.
    """
    try:
        with open(stat_path, "rb") as stat:
            data = stat.read()
        fields = data[data.rindex(b")") + 2 :].split()
        start_ticks = int(fields[19])
        hz = os.sysconf("SC_CLK_TCK")
        now_ns = time.time_ns()
        since_boot_ns = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    start_ns = now_ns - (since_boot_ns - start_ticks * 1_000_000_000 // hz)
    if start_ns > now_ns:
        return None
    return start_ns


def _start_ticks(stat_path: str) -> int | None:
    try:
        with open(stat_path, "rb") as stat:
            data = stat.read(4096)
        return int(data[data.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def lineage(worker: bool = False) -> str:
    """What identifies the process tree this runtime belongs to: the boot id, the parent's
    pid and start time (the sandbox's init in Lambda, RIE locally: the same for a re-run INIT,
    new for a new run), and with ``worker`` (a forked LMI worker) this process's own pid and
    start too. Unreadable parts are left empty."""
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as f:
            boot = f.read(64).strip().decode("ascii", "replace")
    except OSError:
        boot = ""
    parent = os.getppid()
    parts = [boot, str(parent), str(_start_ticks(f"/proc/{parent}/stat") or "")]
    if worker:
        parts += [str(os.getpid()), str(_start_ticks("/proc/self/stat") or "")]
    return "/".join(parts)


def external_extensions_present(directory: str, ignored: frozenset[str] = frozenset()) -> bool:
    """Whether Lambda starts external extensions in this sandbox: any executable file in
    its extensions directory (``/opt/extensions``) but the ``ignored`` names. Their INIT can
    end after the runtime's first ``next``, so a real cold start's idle gap may include
    their tail."""
    try:
        with os.scandir(directory) as entries:
            return any(
                e.name not in ignored and e.is_file() and os.access(e.path, os.X_OK)
                for e in entries
            )
    except OSError:
        return False


# awslambdaric as a package (pip, python3.12+ managed runtimes) or top-level modules in
# /var/runtime (older managed runtimes).
RUNTIME_CLIENT_MODULES = ("awslambdaric.lambda_runtime_client", "lambda_runtime_client")


def runtime_client_loaded() -> bool:
    """True in the runtime process itself (a child process never loads the client)."""
    return any(
        getattr(sys.modules.get(name), "LambdaRuntimeClient", None) is not None
        for name in RUNTIME_CLIENT_MODULES
    )


def forked_worker() -> bool:
    """True in a process that multiprocessing forked (awslambdaric's LMI workers)."""
    process = sys.modules.get("multiprocessing.process")
    parent = getattr(process, "parent_process", None)
    try:
        return parent is not None and parent() is not None
    except Exception:
        return False


def wait_for_forked_children(timeout_s: float) -> bool:
    """Wait, at most ``timeout_s``, until every process multiprocessing forked from here has
    ended (awslambdaric's LMI workers); True when none is left."""
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None:
        return True
    deadline = time.monotonic() + timeout_s
    while multiprocessing.active_children():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True
