"""A function that patches the stdlib with eventlet and never mentions any instrumentation."""

import eventlet

eventlet.monkey_patch()

import socket  # noqa: E402


def handler(event, context):
    return {
        "patched": eventlet.patcher.is_monkey_patched("socket"),
        "socket": socket.socket.__module__,
    }
