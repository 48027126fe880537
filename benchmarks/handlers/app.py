"""The user's function, uninstrumented: the bare row, and what the wrapper routes wrap."""


def handler(event, context):
    return {"ok": True, "n": event.get("n") if isinstance(event, dict) else None}
