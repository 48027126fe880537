"""A function on the manual route that reports what of ours runs in its process."""

from footprint import footprint

import otel_lambda_init


@otel_lambda_init.instrument_handler
def handler(event, context):
    return footprint()
