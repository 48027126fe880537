"""Local Lambda: real handlers in real awslambdaric processes, with Lambda's lifecycle rules.

Its own import package, never importing the instrumentation (otel_lambda_init): it must work
for any handler, and it is never shipped in the Lambda layer.
"""

from .fleet import Fleet, FleetResult, RequestRecord, SandboxRecord
from .function import FunctionConfig
from .ground_truth import Verdict
from .lambda_rules import Phase, SandboxRules
from .receiver import Behaviour, OtlpReceiver, ReceivedEvent, ReceivedLink, ReceivedSpan
from .runtime_api import Invocation, InvocationResult, RuntimeApi
from .sandbox import InitOutcome, Sandbox, ShutdownOutcome
from .scenarios import Scenario, demo_scenario, load_scenario
from .snapstart import RestoredSandbox, Snapshot

__all__ = [
    "Behaviour",
    "Fleet",
    "FleetResult",
    "FunctionConfig",
    "InitOutcome",
    "Invocation",
    "InvocationResult",
    "OtlpReceiver",
    "Phase",
    "ReceivedEvent",
    "ReceivedLink",
    "ReceivedSpan",
    "RequestRecord",
    "RestoredSandbox",
    "RuntimeApi",
    "Sandbox",
    "SandboxRecord",
    "SandboxRules",
    "Scenario",
    "ShutdownOutcome",
    "Snapshot",
    "Verdict",
    "demo_scenario",
    "load_scenario",
]
