"""What a run tells the user after the summary: INIT failures and problem lines from the
sandbox logs, each said once."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["init_failures", "log_problems", "wait_quiet"]

# What, in a sandbox's output, the user should see without opening the log: exporter failures
# (the SDK logs them), our own warnings, the runtime's errors and tracebacks.
_PROBLEM_MARKERS = (
    "Failed to export",
    "Transient error",
    "otel-lambda-init:",
    "[ERROR]",
    "Traceback",
)


def log_problems(result: Any, limit: int = 12) -> list[str]:
    """Distinct problem lines from every sandbox's log, with how often each appeared."""
    seen: dict[str, list[str]] = {}
    for sb in result.sandboxes:
        if sb.log_path is None or not sb.log_path.exists():
            continue
        for line in sb.log_path.read_text(errors="replace").splitlines():
            if any(m in line for m in _PROBLEM_MARKERS):
                seen.setdefault(line.strip()[:300], []).append(sb.name)
    if not seen:
        return []
    lines = [f"from the sandbox logs ({len(seen)} distinct problem lines):"]
    for text, where in list(seen.items())[:limit]:
        lines.append(f"  [{', '.join(sorted(set(where)))}] {text}")
    if len(seen) > limit:
        lines.append(f"  ... {len(seen) - limit} more in the logs")
    return lines


def init_failures(result: Any) -> list[str]:
    """One clear line per sandbox whose INIT failed, as Lambda would report it."""
    lines = []
    for sb in result.sandboxes:
        if sb.init_status in ("error", "exited"):
            lines.append(f"INIT failed in {sb.name}: {sb.init_error_type}: {sb.init_error_message}")
            if sb.logs_tail.strip():
                lines.append("  runtime output (last lines):")
                lines.extend(f"    {ln}" for ln in sb.logs_tail.strip().splitlines()[-8:])
    return lines


def wait_quiet(receiver: Any, quiet_s: float = 0.6, limit_s: float = 5.0) -> None:
    """Wait until no export arrived for quiet_s (sandboxes flush at shutdown), bounded."""
    end = time.monotonic() + limit_s
    count = -1
    while time.monotonic() < end:
        now = len(receiver.requests)
        if now == count:
            return
        count = now
        time.sleep(quiet_s)
