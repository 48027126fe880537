"""The simulator's main product: did this request wait for an INIT? As pure functions.

The instrumentation guesses from inside the sandbox (cold start, proactive initialization);
the fleet knows, because it placed the request. These rules turn what the fleet saw at the
moment of placement into the verdicts a user compares the spans against. Times are ns.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Verdict", "request_verdict", "sandbox_verdict", "waited_for_init"]


class Verdict(str, Enum):
    """What a request (or a sandbox's INIT) was, as the caller experienced it."""

    COLD = "cold"  # the request waited for this sandbox's INIT
    PROACTIVE = "proactive"  # a sandbox's first request, but nobody waited for its INIT
    WARM = "warm"  # a later request on an initialized sandbox
    UNUSED = "unused"  # a sandbox that served nobody


def waited_for_init(
    *,
    prior_invocations: int,
    arrival_ns: int,
    init_end_ns: int,
    init_status: str,
    became_ready_now: bool,
) -> bool:
    """Whether a request placed on a sandbox now waited for that sandbox's INIT.

    It did if it is the sandbox's first request, arrived before INIT ended, and the sandbox
    only just became ready (or its INIT did not succeed, so the request got INIT's outcome).
    A timed-out INIT re-runs inside the invocation: that request always waits for it.
    """
    if init_status == "timeout":
        return True
    return (
        prior_invocations == 0
        and init_end_ns >= arrival_ns
        and (became_ready_now or init_status != "done")
    )


def request_verdict(*, prior_invocations: int, waited: bool) -> Verdict:
    """Cold if it waited for an INIT; else proactive for a sandbox's first request, else warm."""
    if waited:
        return Verdict.COLD
    return Verdict.PROACTIVE if prior_invocations == 0 else Verdict.WARM


def sandbox_verdict(*, invocations: int, waited_for: bool) -> Verdict:
    """A sandbox's INIT: cold if its first request waited, proactive if not, unused if none."""
    if invocations == 0:
        return Verdict.UNUSED
    return Verdict.COLD if waited_for else Verdict.PROACTIVE
