"""The floor, not a route: the realistic function with the SDK, the OTLP/HTTP exporter and the
botocore, requests and urllib3 instrumentors set up in the module, and nothing else (no
invocation span, no package of ours): what any route that exports these client spans pays."""

import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
BotocoreInstrumentor().instrument()
RequestsInstrumentor().instrument()
URLLib3Instrumentor().instrument()

import boto3  # noqa: E402
import requests  # noqa: E402

STUB = os.environ["REALISTIC_STUB_URL"]

s3 = boto3.client("s3", endpoint_url=STUB, region_name="us-east-1")
http = requests.Session()


def handler(event, context):
    obj = s3.get_object(Bucket="orders", Key="latest.json")
    body = obj["Body"].read()
    prices = http.get(f"{STUB}/api/prices", timeout=5)
    provider.force_flush()  # as a sync flush would: the spans leave before the freeze
    return {"ok": True, "s3_bytes": len(body), "prices": prices.status_code}
