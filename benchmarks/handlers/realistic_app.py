"""A real function's shape, uninstrumented: an S3 client (boto3) and a requests session made
at INIT, both called on every invocation (against the benchmark's local stub server)."""

from realistic_work import call_services


def handler(event, context):
    return call_services()
