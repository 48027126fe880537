"""A function whose pool worker runs a long stretch of C code and is terminated (a task past
its deadline: ``AsyncResult.get(timeout)`` then ``terminate``), as functions do it."""

import hashlib
import multiprocessing
import os
import time

_fork = multiprocessing.get_context("fork")
_started = None  # a fork-inherited event: the worker is about to enter the C code


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _long_c_work(_: int) -> bytes:
    _started.set()
    # Tens of seconds in OpenSSL without a return to the interpreter (the GIL released).
    return hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 60_000_000)


def handler(event, context):
    global _started
    _started = _fork.Event()
    pool = _fork.Pool(1)
    pool.apply_async(_long_c_work, (0,))
    assert _started.wait(60), "the worker never started"
    worker = pool._pool[0].pid
    begun = _cpu_ticks(worker)
    while _cpu_ticks(worker) < begun + 5:  # it spends CPU: it is inside the C code
        time.sleep(0.01)
    t0 = time.monotonic()
    pool.terminate()
    pool.join()
    return {"terminate_s": time.monotonic() - t0, "pid": os.getpid()}
