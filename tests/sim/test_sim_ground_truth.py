"""The fleet's ground-truth rule (otel_lambda_sim.ground_truth): who waited for which INIT."""

from __future__ import annotations

import pytest

from otel_lambda_sim.ground_truth import (
    Verdict,
    request_verdict,
    sandbox_verdict,
    waited_for_init,
)

S = 1_000_000_000

# (name, prior invocations, arrival s, INIT end s, INIT status, became ready now, waited)
WAITED_CASES = [
    ("cold: arrived during INIT, placed as the sandbox became ready", 0, 1, 2, "done", True, True),
    ("proactive: first request, INIT ended before it arrived", 0, 12, 2, "done", False, False),
    (
        "proactive: arrived during INIT but placed later, on an idle sandbox (eager assignment)",
        0,
        1,
        2,
        "done",
        False,
        False,
    ),
    ("warm: a later request", 3, 1, 2, "done", True, False),
    ("cold: INIT failed, the first request gets its outcome", 0, 1, 2, "error", False, True),
    ("cold: runtime exited during INIT", 0, 1, 2, "exited", False, True),
    ("cold: INIT cap hit, INIT re-runs inside the invocation", 0, 30, 2, "timeout", False, True),
    ("cold: INIT re-runs even for a sandbox that served before", 2, 30, 2, "timeout", False, True),
]


@pytest.mark.parametrize(
    ("name", "prior", "arrival_s", "init_end_s", "status", "now_ready", "waited"),
    WAITED_CASES,
    ids=[c[0] for c in WAITED_CASES],
)
def test_waited_for_init(
    name: str,
    prior: int,
    arrival_s: int,
    init_end_s: int,
    status: str,
    now_ready: bool,
    waited: bool,
) -> None:
    assert (
        waited_for_init(
            prior_invocations=prior,
            arrival_ns=arrival_s * S,
            init_end_ns=init_end_s * S,
            init_status=status,
            became_ready_now=now_ready,
        )
        is waited
    )


@pytest.mark.parametrize(
    ("prior", "waited", "verdict"),
    [
        (0, True, Verdict.COLD),
        (0, False, Verdict.PROACTIVE),
        (4, False, Verdict.WARM),
        (4, True, Verdict.COLD),  # an INIT re-run inside a later invocation
    ],
)
def test_request_verdict(prior: int, waited: bool, verdict: Verdict) -> None:
    assert request_verdict(prior_invocations=prior, waited=waited) is verdict


@pytest.mark.parametrize(
    ("invocations", "waited_for", "verdict"),
    [
        (0, False, Verdict.UNUSED),
        (1, True, Verdict.COLD),
        (5, False, Verdict.PROACTIVE),
    ],
)
def test_sandbox_verdict(invocations: int, waited_for: bool, verdict: Verdict) -> None:
    assert sandbox_verdict(invocations=invocations, waited_for=waited_for) is verdict
