"""Local Lambda: real handlers in real awslambdaric processes, with Lambda's lifecycle rules.

Never imports the instrumentation package: it must work for any handler.
"""

from .receiver import Behaviour, OtlpReceiver, ReceivedEvent, ReceivedLink, ReceivedSpan
from .runtime_api import Invocation, InvocationResult, RuntimeApi
from .sandbox import InitOutcome, Sandbox, ShutdownOutcome

__all__ = [
    "Behaviour",
    "InitOutcome",
    "Invocation",
    "InvocationResult",
    "OtlpReceiver",
    "ReceivedEvent",
    "ReceivedLink",
    "ReceivedSpan",
    "RuntimeApi",
    "Sandbox",
    "ShutdownOutcome",
]
