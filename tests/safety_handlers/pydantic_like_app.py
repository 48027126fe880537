"""A function whose validation error quotes its input as pydantic does (``input_value=...``)."""

import os

if os.environ.get("RAISE_AT_IMPORT"):
    raise ValueError(
        "1 validation error for Settings\napi_key\n  Input should be a valid key "
        f"[type=value_error, input_value={os.environ['RAISE_AT_IMPORT']!r}, input_type=str]"
    )


def handler(event, context):
    raise ValueError(
        "1 validation error for Order\nemail\n  Input should be a valid email "
        f"[type=value_error, input_value={event['email']!r}, input_type=str]"
    )
