"""A function that forks with os.fork and lets the child leave with sys.exit (a common habit
in scripts): the child runs the interpreter's exit, atexit handlers included."""

import os
import sys


def handler(event, context):
    pid = os.fork()
    if pid == 0:
        sys.exit(0)
    os.waitpid(pid, 0)
    return {"ok": True}
