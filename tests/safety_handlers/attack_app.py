"""A function with one habit chosen by ATTACK, for the attack table of issue 25 (item 9)."""

import logging
import os
import signal
import sys
import threading
import time

ATTACK = os.environ.get("ATTACK", "")

if ATTACK == "own-sigterm":
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
if ATTACK == "chdir":
    os.chdir("/")
if ATTACK == "logging-off":
    logging.disable(logging.CRITICAL)
    logging.getLogger().handlers.clear()


def _attack(event):
    if ATTACK == "replace-provider":
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        trace._TRACER_PROVIDER_SET_ONCE._done = False  # what some test helpers do
        trace.set_tracer_provider(TracerProvider())
    elif ATTACK == "thread-sys-exit":
        worker = threading.Thread(target=sys.exit, args=(3,))
        worker.start()
        worker.join()
    elif ATTACK == "close-stdio":
        sys.stdout.close()
        sys.stderr.close()
    elif ATTACK == "frozen-clock":
        time.time_ns = lambda: 1_000_000_000_000_000_000
        time.time = lambda: 1_000_000_000.0
    elif ATTACK == "environ-clear":
        os.environ.clear()
    elif ATTACK == "recursion-limit":
        sys.setrecursionlimit(60)
    elif ATTACK == "keyboard-interrupt" and event.get("n") == 1:
        raise KeyboardInterrupt
    elif ATTACK == "sigterm-ignored":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif ATTACK == "modules-deleted":  # a hot-reload habit: drop a package to import it anew
        for name in [m for m in sys.modules if m.split(".")[0] == "opentelemetry"]:
            del sys.modules[name]
    elif ATTACK == "socket-patched":  # what mocking and proxy libraries do
        import socket

        class CountingSocket(socket.socket):
            opened = 0

            def __init__(self, *args, **kwargs):
                CountingSocket.opened += 1
                super().__init__(*args, **kwargs)

        socket.socket = CountingSocket


def handler(event, context):
    _attack(event)
    return {"ok": True, "n": event.get("n")}
