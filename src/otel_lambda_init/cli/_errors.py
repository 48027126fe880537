"""The CLI's own error types: a user's mistake (exit 2) is told apart from a failed run (exit 1)
and from a bug, which keeps its traceback."""

from __future__ import annotations

__all__ = ["RunFailed", "SimulatorMissing", "UsageError"]

SIMULATOR_MISSING = (
    "the local Lambda simulator is not installed; install it with "
    "`pip install 'otel-lambda-init[simulator]'`"
)


class UsageError(Exception):
    """Something the user gave (an option, a scenario value, a path) cannot be used: exit 2."""


class SimulatorMissing(UsageError):
    """`otel_lambda_sim` or its dependency opentelemetry-proto is absent (no `simulator` extra)."""


class RunFailed(Exception):
    """The run started but could not finish (e.g. it outlived its deadline): exit 1."""
