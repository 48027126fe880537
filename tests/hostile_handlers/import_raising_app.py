"""A function that never mentions the package and raises while its module is imported."""


def _connect():
    raise RuntimeError("cannot connect to the database at import time")


_connect()


def handler(event, context):  # pragma: no cover - never reached
    return "unreachable"
