"""The realistic function's work, shared by its routes: an S3 client (boto3) and a requests
session made at import (INIT), both called on every invocation (against the local stub server).
Imported after any instrumentor is set up, so that the clients are the instrumented ones."""

import os

import boto3
import requests

STUB = os.environ["REALISTIC_STUB_URL"]

s3 = boto3.client("s3", endpoint_url=STUB, region_name="us-east-1")
http = requests.Session()


def call_services():
    obj = s3.get_object(Bucket="orders", Key="latest.json")
    body = obj["Body"].read()
    prices = http.get(f"{STUB}/api/prices", timeout=5)
    return {"ok": True, "s3_bytes": len(body), "prices": prices.status_code}
