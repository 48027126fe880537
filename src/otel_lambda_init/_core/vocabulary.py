"""The package's one vocabulary: its version, attribute keys, and the closed sets of values
(modes, phases, sources, initialization types) as ``Literal`` types with their constants.

The ``faas.*``/``cloud.*`` keys are those of the OpenTelemetry semantic conventions; they are
spelled here (the core never imports OpenTelemetry) and a test checks them against
``opentelemetry-semantic-conventions``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from typing import Final, Literal

    TraceMode = Literal["auto", "first-invocation", "separate"]
    FlushMode = Literal["after-response", "sync", "none"]
    Phase = Literal["init", "invoke", "restore"]
    StartSource = Literal["proc", "import", "restore-next"]
    EndSource = Literal[
        "runtime-next", "restore-next", "init-done", "handler-import", "readiness-check"
    ]
    InitializationType = Literal[
        "on-demand", "provisioned-concurrency", "snap-start", "lambda-managed-instances"
    ]
    Placement = Literal["invocation-trace", "own-trace"]
    ClassifiedBy = Literal[
        "event-time", "threshold", "idle-gap", "pending-request", "initialization-type", "phase"
    ]
    ChildKind = Literal["import", "phase", "runtime", "setup", "failed-attempt"]
    DeliveryTrigger = Literal[
        "after-invocation", "init-end", "init-error", "shutdown", "before-snapshot"
    ]
else:
    TraceMode = FlushMode = Phase = StartSource = EndSource = str
    InitializationType = Placement = ChildKind = DeliveryTrigger = ClassifiedBy = str

VERSION: Final = "0.1.0"
"""The package's version (pyproject reads it from here)."""

TRACER_NAME: Final = "otel_lambda_init"
"""Instrumentation scope of every span and meter this package makes."""

# -- closed value sets ---------------------------------------------------------------------
TRACE_AUTO: Final = "auto"
TRACE_FIRST_INVOCATION: Final = "first-invocation"
TRACE_SEPARATE: Final = "separate"
TRACE_MODES: tuple[TraceMode, ...] = (TRACE_AUTO, TRACE_FIRST_INVOCATION, TRACE_SEPARATE)

FLUSH_AFTER_RESPONSE: Final = "after-response"
FLUSH_SYNC: Final = "sync"
FLUSH_NONE: Final = "none"
FLUSH_MODES: tuple[FlushMode, ...] = (FLUSH_AFTER_RESPONSE, FLUSH_SYNC, FLUSH_NONE)

PHASE_INIT: Final = "init"
PHASE_INVOKE: Final = "invoke"
PHASE_RESTORE: Final = "restore"

START_PROC: Final = "proc"
START_IMPORT: Final = "import"
START_RESTORE: Final = "restore-next"
END_RUNTIME_NEXT: Final = "runtime-next"
END_RESTORE_NEXT: Final = "restore-next"
END_INIT_DONE: Final = "init-done"
END_HANDLER_IMPORT: Final = "handler-import"
# A web app behind the Lambda Web Adapter answered its readiness check healthy: the adapter
# calls the Runtime API's next right after (web/, docs/web-apps.md).
END_READINESS: Final = "readiness-check"

ON_DEMAND: Final = "on-demand"
PROVISIONED: Final = "provisioned-concurrency"
SNAP_START: Final = "snap-start"
MANAGED_INSTANCES: Final = "lambda-managed-instances"
INITIALIZATION_TYPES: tuple[InitializationType, ...] = (
    ON_DEMAND,
    PROVISIONED,
    SNAP_START,
    MANAGED_INSTANCES,
)

PLACE_INVOCATION_TRACE: Final = "invocation-trace"
PLACE_OWN_TRACE: Final = "own-trace"

# which row of the decision table decided (``lambda_init.classified_by``)
BY_THRESHOLD: Final = "threshold"  # first invocation > 10 s after INIT start (or not)
BY_IDLE_GAP: Final = "idle-gap"  # the sandbox sat ready, nobody waiting
BY_PENDING_REQUEST: Final = "pending-request"  # handed a request as INIT ended
BY_INITIALIZATION_TYPE: Final = "initialization-type"  # provisioned, SnapStart, LMI
BY_PHASE: Final = "phase"  # INIT re-run inside the invocation
BY_EVENT_TIME: Final = "event-time"  # the trigger's own time of receipt vs INIT end

CHILD_IMPORT: Final = "import"
CHILD_PHASE: Final = "phase"
CHILD_RUNTIME: Final = "runtime"
CHILD_SETUP: Final = "setup"
CHILD_FAILED_ATTEMPT: Final = "failed-attempt"

# -- semantic-convention keys --------------------------------------------------------------
FAAS_COLDSTART: Final = "faas.coldstart"
FAAS_INVOCATION_ID: Final = "faas.invocation_id"
FAAS_TRIGGER: Final = "faas.trigger"
FAAS_NAME: Final = "faas.name"
FAAS_VERSION: Final = "faas.version"
FAAS_INSTANCE: Final = "faas.instance"
FAAS_MAX_MEMORY: Final = "faas.max_memory"
CLOUD_PROVIDER: Final = "cloud.provider"
CLOUD_PLATFORM: Final = "cloud.platform"
CLOUD_REGION: Final = "cloud.region"
CLOUD_RESOURCE_ID: Final = "cloud.resource_id"
CLOUD_ACCOUNT_ID: Final = "cloud.account.id"
AWS_LAMBDA_INVOKED_ARN: Final = "aws.lambda.invoked_arn"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
ERROR_TYPE: Final = "error.type"

# -- our own keys (lambda_init.*) ----------------------------------------------------------
PROACTIVE: Final = "lambda_init.proactive_initialization"
GAP_MS: Final = "lambda_init.gap_ms"
DURATION_MS: Final = "lambda_init.duration_ms"
INITIALIZATION_TYPE: Final = "lambda_init.initialization_type"
PHASE: Final = "lambda_init.phase"
SANDBOX_INVOCATION: Final = "lambda_init.sandbox_invocation"
START_SOURCE: Final = "lambda_init.start_source"
END_SOURCE: Final = "lambda_init.end_source"
UNUSED: Final = "lambda_init.unused"
CPU_MS: Final = "lambda_init.cpu_ms"
BILLED_DURATION_MS: Final = "lambda_init.billed_duration_ms"
ESTIMATED_COST_USD: Final = "lambda_init.estimated_cost_usd"
OVERHEAD_MS: Final = "lambda_init.overhead_ms"
INIT_ATTEMPT: Final = "lambda_init.init_attempt"
RUNTIME_RESTARTED: Final = "lambda_init.runtime_restarted"
WORKER_PID: Final = "lambda_init.worker.pid"
CHILDREN_DROPPED: Final = "lambda_init.children_dropped"
CHILD: Final = "lambda_init.child"
IMPORT_ORIGIN: Final = "lambda_init.import.origin"
ATTEMPT_OUTCOME: Final = "lambda_init.attempt.outcome"
RUNTIME_INCLUDES_HANDLER_CODE: Final = "lambda_init.runtime.includes_handler_code"
LINK: Final = "lambda_init.link"
CLASSIFIED_BY: Final = "lambda_init.classified_by"
EXTERNAL_EXTENSIONS: Final = "lambda_init.external_extensions"
IDLE_GAP_THRESHOLD_MS: Final = "lambda_init.idle_gap_threshold_ms"
CALLER_WAIT_MS: Final = "lambda_init.caller_wait_ms"
NEXT_CPU_WAIT_MS: Final = "lambda_init.next_cpu_wait_ms"
NEXT_WAIT_MS: Final = "lambda_init.next_wait_ms"
# Link fallback for backends that drop links (Phoenix, ADOT fast-start): each side's ids.
INIT_TRACE_ID: Final = "lambda_init.init_trace_id"
INIT_SPAN_ID: Final = "lambda_init.init_span_id"
INVOCATION_TRACE_ID: Final = "lambda_init.first_invocation_trace_id"
INVOCATION_SPAN_ID: Final = "lambda_init.first_invocation_span_id"
