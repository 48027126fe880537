"""What the Lambda Web Adapter's two headers say, read defensively.

The adapter adds ``x-amzn-lambda-context`` (the invocation's request id, deadline and invoked
ARN, as JSON) and ``x-amzn-request-context`` (the trigger's request context, as JSON) to every
event it forwards; its readiness probes carry neither. Only identifiers and the trigger's time
of receipt are kept: the rest of either header is never recorded. Anything odd (missing,
not JSON, too large, wrong types) yields what could be read and a problem to report once.
"""

from __future__ import annotations

import json
from typing import Any

LAMBDA_CONTEXT = "x-amzn-lambda-context"
REQUEST_CONTEXT = "x-amzn-request-context"
MAX_HEADER_CHARS = 65_536
"""Longer values are not parsed: a request context with authorizer claims is a few KB; a
header this large is not the adapter's."""
MAX_ID_CHARS = 256
_TIME_KEYS = ("timeEpoch", "requestTimeEpoch")
"""Where API Gateway (HTTP API, REST) and Function URLs put their time of receipt (epoch ms)."""


class AdapterContext:
    """The invocation as the adapter describes it; quacks like the Lambda context object for
    the handler wrapper (``aws_request_id``, ``invoked_function_arn``)."""

    __slots__ = ("aws_request_id", "invoked_function_arn", "deadline_ms")

    def __init__(
        self,
        aws_request_id: str | None = None,
        invoked_function_arn: str | None = None,
        deadline_ms: int | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn
        self.deadline_ms = deadline_ms


def _json_object(raw: str | None, name: str) -> tuple[dict[str, Any] | None, str | None]:
    """The header's JSON object, or None and why not."""
    if raw is None:
        return None, None
    if len(raw) > MAX_HEADER_CHARS:
        return None, f"{name} is larger than {MAX_HEADER_CHARS} characters"
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None, f"{name} is not JSON"
    if not isinstance(value, dict):
        return None, f"{name} is not a JSON object"
    return value, None


def _short_str(value: Any) -> str | None:
    return value[:MAX_ID_CHARS] if isinstance(value, str) and value else None


def parse_lambda_context(raw: str | None) -> tuple[AdapterContext, str | None]:
    """The adapter's lambda context (request id, deadline, ARN) and a problem, if any."""
    value, problem = _json_object(raw, LAMBDA_CONTEXT)
    if value is None:
        return AdapterContext(), problem
    deadline = value.get("deadline")
    if isinstance(deadline, bool) or not isinstance(deadline, int) or not 0 < deadline < 10**15:
        deadline = None
    context = AdapterContext(
        _short_str(value.get("request_id")), _short_str(value.get("invoked_function_arn")), deadline
    )
    if context.aws_request_id is None:
        problem = f"{LAMBDA_CONTEXT} has no request_id"
    return context, problem


def parse_request_context(raw: str | None) -> tuple[dict[str, Any], str | None]:
    """The trigger's request context reduced to its time of receipt (the keys the event-time
    rules read), and a problem, if any. Empty when the trigger says no time (ALB)."""
    value, problem = _json_object(raw, REQUEST_CONTEXT)
    if value is None:
        return {}, problem
    kept: dict[str, Any] = {}
    for key in _TIME_KEYS:
        time = value.get(key)
        if time is not None:
            kept[key] = time  # as sent: the event-time rules judge its type and value
    return kept, None
