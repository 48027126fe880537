"""Local Lambda: real handlers in real awslambdaric processes, with Lambda's lifecycle rules.

Never imports the instrumentation package: it must work for any handler.
"""

from .fleet import Fleet, FleetResult, RequestRecord, SandboxRecord
from .receiver import Behaviour, OtlpReceiver, ReceivedEvent, ReceivedLink, ReceivedSpan
from .runtime_api import Invocation, InvocationResult, RuntimeApi
from .sandbox import InitOutcome, Sandbox, ShutdownOutcome
from .scenarios import Scenario, demo_scenario, load_scenario
from .snapstart import RestoredSandbox, Snapshot

__all__ = [
    "Behaviour",
    "Fleet",
    "FleetResult",
    "RequestRecord",
    "RestoredSandbox",
    "SandboxRecord",
    "Scenario",
    "Snapshot",
    "demo_scenario",
    "load_scenario",
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
