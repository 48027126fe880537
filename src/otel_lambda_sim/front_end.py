"""The trigger in front of the function: it stamps each request when it arrives, by its own clock.

API Gateway (REST and HTTP API), Function URLs and SQS put a time into the event they send;
the front end's clock and the sandbox's need not agree, so a run can skew it. The stamp is
the fleet's arrival time, the same instant its ground truth uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TRIGGERS", "FrontEnd"]

TRIGGERS = ("api-gateway-rest", "http-api", "function-url", "sqs")


@dataclass(frozen=True)
class FrontEnd:
    """A trigger shape and how far (ms, either sign) its clock runs ahead of the sandboxes'."""

    trigger: str = "http-api"
    skew_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}; got {self.trigger!r}")

    @classmethod
    def of(cls, scenario: Any) -> FrontEnd | None:
        """The scenario's front end (its ``trigger``, ``front_end_skew_ms``), if it names one."""
        trigger = getattr(scenario, "trigger", None)
        return cls(trigger, float(getattr(scenario, "front_end_skew_ms", 0.0))) if trigger else None

    def stamp(self, event: Any, arrival_ns: int) -> Any:
        """The event as this trigger delivers it: the payload's keys (and request context) kept,
        the time of receipt (API Gateway, Function URL) or of sending (SQS) set in its format."""
        stamped_ms = int((arrival_ns + self.skew_ms * 1_000_000) // 1_000_000)
        payload = dict(event) if isinstance(event, dict) else {"payload": event}
        if self.trigger == "sqs":
            record = {"eventSource": "aws:sqs", "attributes": {"SentTimestamp": str(stamped_ms)}}
            return {**payload, "Records": [record]}
        given = payload.get("requestContext")
        context: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
        if self.trigger == "api-gateway-rest":
            context["requestTimeEpoch"] = stamped_ms
            return {"resource": "/", "httpMethod": "GET", **payload, "requestContext": context}
        context["timeEpoch"] = stamped_ms
        context.setdefault("http", {"method": "GET", "path": "/"})
        if self.trigger == "function-url":
            context.setdefault("domainName", "abc.lambda-url.us-east-1.on.aws")
        return {"version": "2.0", "rawPath": "/", **payload, "requestContext": context}
