"""Raises while being imported: an INIT error (Runtime.UserCodeSyntaxError is for syntax)."""

raise RuntimeError("cannot connect to the database at import time")


def handler(event, context):  # pragma: no cover - never reached
    return "unreachable"
