"""SnapStart handler: draws from random at INIT and per invocation, and registers the hooks."""

import os
import random

from snapshot_restore_py import register_after_restore, register_before_snapshot

HOOKS = []
random.seed(1234)  # INIT state every restored sandbox shares, as with a real snapshot
INIT_DRAW = random.random()


@register_before_snapshot
def _before():
    HOOKS.append(("before_snapshot", os.getpid()))


@register_after_restore
def _after():
    HOOKS.append(("after_restore", os.getpid()))


def handler(event, context):
    return {
        "pid": os.getpid(),
        "draw": random.random(),
        "init_draw": INIT_DRAW,
        "hooks": HOOKS,
        "log_stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
        "init_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
        "tmpdir": os.environ.get("TMPDIR"),
    }
