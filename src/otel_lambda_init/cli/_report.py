"""What a run tells the user after the summary: INIT failures and problem lines from the
sandbox logs, each said once."""

from __future__ import annotations

import ast
import difflib
import time
from pathlib import Path
from typing import Any

__all__ = ["init_failure_line", "init_failures", "log_problems", "module_functions", "wait_quiet"]

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


def module_functions(code_dir: Path, module: str) -> list[str] | None:
    """The public functions a handler module defines at its top level, read from its source
    (never imported here: user code runs only in sandboxes); None when it cannot be read."""
    base = code_dir.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, SyntaxError, ValueError):
            continue
        return [
            node.name
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and not node.name.startswith("_")
        ]
    return None


def _did_you_mean(handler: str, code_dir: Path) -> str:
    module, _, name = handler.rpartition(".")
    defined = module_functions(code_dir, module) if module else None
    if defined is None or name in defined:
        return ""
    close = difflib.get_close_matches(name, defined, n=1, cutoff=0.5)
    guess = f" (did you mean {module}.{close[0]}?)" if close else ""
    return f"; {module} defines {', '.join(defined) or 'no public function'}{guess}"


def init_failure_line(record: Any, handler: str, code_dir: Path) -> str:
    """One line for the first failed INIT: its cause, what the handler module defines when the
    name is not among them, and where the sandbox's log is."""
    message = (record.init_error_message or "").strip().splitlines()
    cause = f"{record.init_error_type}: {message[0] if message else ''}".rstrip(": ")
    where = f"; log: {record.log_path}" if record.log_path else ""
    return f"INIT failed in {record.name}: {cause}{_did_you_mean(handler, code_dir)}{where}"
