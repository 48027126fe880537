"""A function that patches the stdlib with gevent and never mentions any instrumentation."""

from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402


def handler(event, context):
    return {"patched": monkey.is_module_patched("socket"), "socket": socket.socket.__module__}
