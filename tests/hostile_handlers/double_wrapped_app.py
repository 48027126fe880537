"""Handlers wrapped more than once: the decorator twice, and a decorated handler behind a
middleware that does not use ``functools.wraps`` (the exec wrapper then wraps it again)."""

import otel_lambda_init


@otel_lambda_init.instrument_handler
@otel_lambda_init.instrument_handler
def twice(event, context):
    return {"ok": True}


@otel_lambda_init.instrument_handler
def _decorated(event, context):
    return {"ok": True}


def _middleware(fn):
    def call(event, context):  # no functools.wraps: the marker attribute is lost
        return fn(event, context)

    return call


behind_middleware = _middleware(_decorated)
