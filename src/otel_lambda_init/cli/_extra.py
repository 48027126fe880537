"""The CLI reaches the simulator (the `simulator` extra) only inside its commands."""

from __future__ import annotations

from ._errors import SIMULATOR_MISSING, SimulatorMissing

__all__ = ["require_simulator"]


def require_simulator() -> None:
    """Import the simulator's dependencies once, so a missing extra is one clear message."""
    try:
        import otel_lambda_sim.fleet  # noqa: F401
        import otel_lambda_sim.view  # noqa: F401
    except ImportError as exc:
        raise SimulatorMissing(f"{SIMULATOR_MISSING} ({exc})") from exc
