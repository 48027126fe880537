"""The realistic function on the manual route: the user's own SDK setup (provider, batch
processor, OTLP/HTTP exporter, the botocore, requests and urllib3 instrumentors) and our
decorator for the invocation span."""

import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import otel_lambda_init

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


@otel_lambda_init.instrument_handler
def handler(event, context):
    obj = s3.get_object(Bucket="orders", Key="latest.json")
    body = obj["Body"].read()
    prices = http.get(f"{STUB}/api/prices", timeout=5)
    return {"ok": True, "s3_bytes": len(body), "prices": prices.status_code}
