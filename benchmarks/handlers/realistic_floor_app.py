"""The floor, not a route: the realistic function with the SDK, the OTLP/HTTP exporter and the
botocore, requests and urllib3 instrumentors set up in the module, and nothing else (no
invocation span, no package of ours): what any route that exports these client spans pays."""

from realistic_sdk import provider
from realistic_work import call_services  # after the instrumentors: its clients are instrumented


def handler(event, context):
    result = call_services()
    provider.force_flush()  # as a sync flush would: the spans leave before the freeze
    return result
