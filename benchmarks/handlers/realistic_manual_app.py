"""The realistic function on the manual route: the user's own SDK setup (provider, batch
processor, OTLP/HTTP exporter, the botocore, requests and urllib3 instrumentors) and our
decorator for the invocation span."""

# The original module's order: our package, the user's SDK setup, then the clients.
# isort: off
import otel_lambda_init
import realistic_sdk  # noqa: F401  (the user's SDK setup, before the clients are made)
from realistic_work import call_services

# isort: on


@otel_lambda_init.instrument_handler
def handler(event, context):
    return call_services()
