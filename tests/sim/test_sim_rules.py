"""Lambda's phase and invocation rules (otel_lambda_sim.lambda_rules), fed explicit timelines.

Each scenario is a list of steps applied to a fresh SandboxRules at given ns; the assertions
say what Lambda would do. No process, socket or clock is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from otel_lambda_sim.function import FunctionConfig
from otel_lambda_sim.lambda_rules import ExtensionInfo, Phase, Refusal, SandboxRules

FUNCTION = FunctionConfig("app.handler", function_timeout_s=3.0)
MS = 1_000_000


def rules(*external: str) -> SandboxRules:
    r = SandboxRules(FUNCTION)
    r.begin_init(1_000 * MS, external)
    return r


def registered(r: SandboxRules, name: str, events: list[str], at_ms: int) -> ExtensionInfo:
    ext = r.register(name, events, f"id-{name}", at_ms * MS)
    assert isinstance(ext, ExtensionInfo)
    return ext


Step = Callable[[SandboxRules], Any]

# (name, steps, expected INIT end in ms or 0 for "not done")
INIT_CASES: list[tuple[str, list[Step], int]] = [
    ("runtime alone: its first next ends INIT", [lambda r: r.runtime_next(1_200 * MS)], 1_200),
    (
        "an internal extension that has not called next holds INIT open",
        [
            lambda r: registered(r, "flusher", ["INVOKE"], 1_100),
            lambda r: r.runtime_next(1_200 * MS),
        ],
        0,
    ),
    (
        "INIT ends at the last next, extension after runtime",
        [
            lambda r: registered(r, "flusher", ["INVOKE"], 1_100),
            lambda r: r.runtime_next(1_200 * MS),
            lambda r: r.extension_next("id-flusher", 1_350 * MS),
        ],
        1_350,
    ),
    (
        "INIT ends at the last next, runtime after extension",
        [
            lambda r: registered(r, "flusher", ["INVOKE"], 1_100),
            lambda r: r.extension_next("id-flusher", 1_150 * MS),
            lambda r: r.runtime_next(1_400 * MS),
        ],
        1_400,
    ),
]


@pytest.mark.parametrize(
    ("name", "steps", "init_end_ms"), INIT_CASES, ids=[c[0] for c in INIT_CASES]
)
def test_init_ends_when_the_runtime_and_every_extension_called_next(
    name: str, steps: list[Step], init_end_ms: int
) -> None:
    r = rules()
    for step in steps:
        step(r)
    assert r.init_done_ns == init_end_ms * MS
    assert r.phase is (Phase.INVOKE if init_end_ms else Phase.INIT)


def test_init_waits_for_an_expected_external_extension_until_it_registers_or_exits() -> None:
    r = rules("ext-a")
    r.runtime_next(1_200 * MS)
    assert not r.init_done  # ext-a is in /opt/extensions but has not registered yet
    r.external_extension_exited("ext-a", 1_500 * MS)
    assert r.init_done_ns == 1_500 * MS

    r = rules("ext-a")
    ext = registered(r, "ext-a", ["INVOKE", "SHUTDOWN"], 1_050)
    assert ext.external
    r.runtime_next(1_200 * MS)
    r.extension_next(ext.id, 1_300 * MS)
    assert r.init_done_ns == 1_300 * MS


# (name, extension name, events, register after INIT?, expected refusal (status, type) or None)
REGISTER_CASES = [
    ("internal extension for INVOKE during INIT", "flusher", ["INVOKE"], False, None),
    ("no name", "", ["INVOKE"], False, (400, "InvalidName")),
    (
        "after INIT",
        "late",
        ["INVOKE"],
        True,
        (403, "Extension.RegistrationNotAllowed"),
    ),
    (
        "internal extension for SHUTDOWN",
        "flusher",
        ["INVOKE", "SHUTDOWN"],
        False,
        (400, "ShutdownEventNotSupportedForInternalExtension"),
    ),
    ("external extension for SHUTDOWN", "ext-a", ["SHUTDOWN"], False, None),
]


@pytest.mark.parametrize(
    ("name", "ext_name", "events", "after_init", "refusal"),
    REGISTER_CASES,
    ids=[c[0] for c in REGISTER_CASES],
)
def test_extensions_register_only_during_init_and_shutdown_only_when_external(
    name: str,
    ext_name: str,
    events: list[str],
    after_init: bool,
    refusal: tuple[int, str] | None,
) -> None:
    r = rules("ext-a")
    if after_init:
        r.external_extension_exited("ext-a", 1_100 * MS)
        r.runtime_next(1_200 * MS)
        assert r.init_done
    answer = r.register(ext_name, events, "id-1", 1_300 * MS)
    if refusal is None:
        assert isinstance(answer, ExtensionInfo) and r.extensions == {"id-1": answer}
    else:
        assert isinstance(answer, Refusal)
        assert (answer.status, answer.error_type) == refusal
        assert r.extensions == {}


def test_managed_instances_take_internal_extensions_for_no_events_and_each_name_once() -> None:
    """rapid's LMI registration (AWS's emulator, internal/lambda-managed-instances/rapi/
    handler/agentregister.go registerInternalAgent): internal extensions may register for no
    events; a second registration under a taken name is refused."""
    r = SandboxRules(FunctionConfig("app.handler", initialization_type="lambda-managed-instances"))
    r.begin_init(1_000 * MS, ("ext-a",))
    refused = r.register("flusher", ["INVOKE"], "id-1", 1_010 * MS)
    assert isinstance(refused, Refusal)
    assert (refused.status, refused.error_type) == (403, "Extension.InvalidEventType")
    assert isinstance(r.register("flusher", [], "id-2", 1_020 * MS), ExtensionInfo)
    again = r.register("flusher", [], "id-3", 1_030 * MS)
    assert isinstance(again, Refusal)
    assert (again.status, again.error_type) == (403, "Extension.InvalidExtensionState")
    assert isinstance(r.register("ext-a", ["SHUTDOWN"], "id-4", 1_040 * MS), ExtensionInfo)
    assert sorted(r.extensions) == ["id-2", "id-4"]


def ready(*extension_events: list[str]) -> SandboxRules:
    """A sandbox after INIT, with internal extensions registered for the given events."""
    r = rules()
    for i, events in enumerate(extension_events):
        registered(r, f"ext{i}", events, 1_010)
        r.extension_next(f"id-ext{i}", 1_020 * MS)
    r.runtime_next(1_100 * MS)
    assert r.init_done
    return r


def test_no_event_is_delivered_before_init_ends_or_while_one_is_in_flight() -> None:
    r = rules()
    assert not r.may_deliver(queued=True)  # INIT still running
    r.runtime_next(1_100 * MS)
    assert not r.may_deliver(queued=False)
    assert r.may_deliver(queued=True)
    r.deliver("req-1", "Root=1-x", None, 2_000 * MS)
    assert not r.may_deliver(queued=True)  # the previous invocation is not complete


def test_default_deadline_is_delivery_plus_the_function_timeout() -> None:
    r = ready()
    state = r.deliver("req-1", "Root=1-x", None, 2_000 * MS)
    assert state.deadline_ms == 2_000 + 3_000
    assert r.deliver("req-2", "Root=1-x", 9_999, 2_100 * MS).deadline_ms == 9_999


# (name, extensions' events, steps after delivery at 2000 ms, expected completion ms or 0)
COMPLETE_CASES: list[tuple[str, list[list[str]], list[Step], int]] = [
    (
        "no extension: complete at the runtime's next after its post",
        [],
        [
            lambda r: r.post_result("req-1", 2_300 * MS),
            lambda r: r.runtime_next(2_340 * MS),
        ],
        2_340,
    ),
    (
        "posted but the runtime has not called next yet: still busy (its work after the post)",
        [],
        [lambda r: r.post_result("req-1", 2_300 * MS)],
        0,
    ),
    (
        "an INVOKE extension that has not called next again holds it open",
        [["INVOKE"]],
        [
            lambda r: r.take_event(r.extensions["id-ext0"]),
            lambda r: r.post_result("req-1", 2_300 * MS),
            lambda r: r.runtime_next(2_310 * MS),
        ],
        0,
    ),
    (
        "complete at the INVOKE extension's next after the runtime posted and asked again",
        [["INVOKE"]],
        [
            lambda r: r.take_event(r.extensions["id-ext0"]),
            lambda r: r.post_result("req-1", 2_300 * MS),
            lambda r: r.runtime_next(2_310 * MS),
            lambda r: r.extension_next("id-ext0", 2_450 * MS),
        ],
        2_450,
    ),
    (
        "complete at the runtime's next when the extension was already done",
        [["INVOKE"]],
        [
            lambda r: r.take_event(r.extensions["id-ext0"]),
            lambda r: r.extension_next("id-ext0", 2_100 * MS),
            lambda r: r.post_result("req-1", 2_300 * MS),
            lambda r: r.runtime_next(2_310 * MS),
        ],
        2_310,
    ),
    (
        "an extension registered for no events does not hold invocations",
        [[]],
        [
            lambda r: r.post_result("req-1", 2_300 * MS),
            lambda r: r.runtime_next(2_305 * MS),
        ],
        2_305,
    ),
]


@pytest.mark.parametrize(
    ("name", "extensions", "steps", "complete_ms"),
    COMPLETE_CASES,
    ids=[c[0] for c in COMPLETE_CASES],
)
def test_invocation_completes_when_runtime_posted_and_asked_again_and_every_invoke_extension_did(
    name: str, extensions: list[list[str]], steps: list[Step], complete_ms: int
) -> None:
    r = ready(*extensions)
    state = r.deliver("req-1", "Root=1-x", None, 2_000 * MS)
    for step in steps:
        step(r)
    assert state.completed_ns == complete_ms * MS
    assert (r.current is None) == bool(complete_ms)


def test_invoke_extensions_get_the_event_with_request_id_deadline_and_arn() -> None:
    r = ready(["INVOKE"], [])
    r.deliver("req-1", "Root=1-abc", None, 2_000 * MS)
    event = r.take_event(r.extensions["id-ext0"])
    assert event is not None
    assert event["eventType"] == "INVOKE" and event["requestId"] == "req-1"
    assert event["deadlineMs"] == 5_000
    assert event["invokedFunctionArn"] == FUNCTION.arn
    assert event["tracing"] == {"type": "X-Amzn-Trace-Id", "value": "Root=1-abc"}
    assert r.take_event(r.extensions["id-ext1"]) is None


# (name, request id posted, how many times, expected refusal on the last post)
RESULT_CASES = [
    ("unknown request id", "req-other", 1, True),
    ("a second result for the same request", "req-1", 2, True),
    ("the current request", "req-1", 1, False),
]


@pytest.mark.parametrize(
    ("name", "request_id", "times", "refused"), RESULT_CASES, ids=[c[0] for c in RESULT_CASES]
)
def test_a_result_is_accepted_once_and_only_for_the_current_request(
    name: str, request_id: str, times: int, refused: bool
) -> None:
    r = ready()
    r.deliver("req-1", "Root=1-x", None, 2_000 * MS)
    answer: Any = None
    for i in range(times):
        answer = r.post_result(request_id, (2_100 + i) * MS)
    assert isinstance(answer, Refusal) == refused
    if refused:
        assert answer.status == 400 and answer.error_type == "InvalidRequestID"


def test_unknown_extension_identifier_is_refused() -> None:
    answer = ready().extension_next("nobody", 2_000 * MS)
    assert isinstance(answer, Refusal) and answer.status == 403


def test_shutdown_stops_events_and_reaches_only_extensions_registered_for_it() -> None:
    r = rules("ext-a")
    ext = registered(r, "ext-a", ["INVOKE", "SHUTDOWN"], 1_010)
    r.extension_next(ext.id, 1_020 * MS)
    r.runtime_next(1_100 * MS)
    r.shutdown("spindown", 9_000)
    assert r.phase is Phase.SHUTDOWN
    assert not r.may_deliver(queued=True)
    assert r.take_event(ext) == {
        "eventType": "SHUTDOWN",
        "shutdownReason": "spindown",
        "deadlineMs": 9_000,
    }


def test_init_error_is_recorded_with_its_time_and_init_stays_open() -> None:
    r = rules()
    r.post_init_error("Runtime.ImportModuleError", {"errorMessage": "no module"}, 1_300 * MS)
    assert r.init_error == {
        "error_type": "Runtime.ImportModuleError",
        "body": {"errorMessage": "no module"},
        "time_ns": 1_300 * MS,
    }
    assert not r.init_done and r.phase is Phase.INIT


def test_a_new_init_forgets_the_killed_runtime_and_its_extensions() -> None:
    r = rules()
    registered(r, "flusher", ["INVOKE"], 1_100)
    r.post_init_error("X", None, 1_200 * MS)
    generation = r.generation
    assert r.begin_init(5_000 * MS) == generation + 1
    assert r.extensions == {} and r.init_error is None
    assert r.init_start_ns == 5_000 * MS and not r.runtime_ready_ns
    r.runtime_next(5_100 * MS)
    assert r.init_done_ns == 5_100 * MS


def test_snapshot_init_ends_at_restore_next_and_a_restored_sandbox_waits_for_its_next() -> None:
    snapshot = rules()
    snapshot.restore_next(1_300 * MS)  # awslambdaric parks for the snapshot
    assert snapshot.init_done_ns == 1_300 * MS

    restored = SandboxRules(FUNCTION)
    restored.restore_mode = True
    restored.begin_init(7_000 * MS)
    restored.restore_next(7_010 * MS)
    assert not restored.init_done  # the restore is not over before the after-restore hooks
    restored.restored(7_020 * MS)
    restored.runtime_next(7_040 * MS)
    assert restored.init_done_ns == 7_040 * MS
    assert restored.restored_ns == 7_020 * MS


def test_a_parked_snapshot_polling_for_fork_orders_has_finished_init() -> None:
    r = rules()
    r.snapshot_taken(1_500 * MS)
    assert r.init_done_ns == r.restore_next_ns == 1_500 * MS


def test_abandoning_the_current_invocation_frees_the_runtime_for_the_next_event() -> None:
    r = ready()
    state = r.deliver("req-1", "Root=1-x", None, 2_000 * MS)
    assert r.abandon_current() is state
    assert r.may_deliver(queued=True)
