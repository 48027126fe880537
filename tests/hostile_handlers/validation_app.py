"""A function whose validation error quotes the event it was given (a password included)."""


def handler(event, context):
    raise ValueError(f"invalid request {'x' * 20_000} {event!r}")
