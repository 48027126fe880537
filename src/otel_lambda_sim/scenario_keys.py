"""Every key a scenario file accepts: what it does, its default, and the check of its value.

A bad value is reported with its key and what was expected (`arrivals: expected a list of
numbers such as [0.0, 0.3], got the text '0.0, 0.3'`), never as a bare conversion error. The
keys table of docs/simulator.md is generated from here (`keys_table`), and a test keeps them equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .front_end import TRIGGERS

__all__ = ["INITIALIZATION_TYPES", "SCENARIO_KEYS", "check_values", "keys_table"]

INITIALIZATION_TYPES = ("on-demand", "provisioned-concurrency", "snap-start")

# key -> what it does (the docs table's third column; the default comes from the dataclass).
SCENARIO_KEYS: dict[str, str] = {
    "name": "the run's name: output files are NAME.jsonl/.html",
    "description": "free text",
    "handler": "module.function, as Lambda's handler setting (--handler overrides)",
    "code_dir": "the function's code directory, relative to the scenario file (--code-dir "
    "overrides, relative to where you run)",
    "layers": "layer zips (as `otel-lambda-init layer build` makes them) or directories, "
    "relative to the scenario file (--layer adds): extracted as Lambda does into /opt, "
    "python/ on PYTHONPATH after the code, bin/ on PATH; AWS_LAMBDA_EXEC_WRAPPER=/opt/... "
    "points into them",
    "function_name": "AWS_LAMBDA_FUNCTION_NAME (and the default service name)",
    "initialization_type": "AWS_LAMBDA_INITIALIZATION_TYPE: on-demand, "
    "provisioned-concurrency, snap-start",
    "execution_env": "AWS_EXECUTION_ENV; the default names the Python running the simulator, "
    "which is the one the sandboxes run (3.12+ lets a SIGTERM handler run at shutdown)",
    "memory_mb": "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "extension_init_ms": "an external extension (in /opt/extensions) whose INIT takes this "
    "long and may end after the runtime's first next: a real cold start's idle gap then "
    "includes its tail (the OpenTelemetry collector layer and the Datadog extension do this)",
    "trigger": "the trigger in front of the function: api-gateway-rest, http-api, function-url "
    "or sqs. It stamps each event when the request arrives (requestTimeEpoch, timeEpoch, "
    "SentTimestamp), so lambda_init.caller_wait_ms shows how long users waited for INIT",
    "front_end_skew_ms": "how far the trigger's clock runs ahead of the sandboxes' (negative: "
    "behind), in ms",
    "init_ms": "sets SIM_INIT_MS in each sandbox, when given. The simulator does not sleep for "
    "you: only a handler that reads SIM_INIT_MS (the demo does) spends that long in INIT",
    "handler_ms": "sets SIM_HANDLER_MS in each sandbox, when given. Only a handler that reads "
    "it (the demo does) takes that long; events reach the handler as written",
    "init_timeout_s": "Lambda's INIT cap (10 s); lower it to see a timeout and re-run quickly",
    "function_timeout_s": "the function timeout (Lambda's default: 3 s); the deadline each "
    "invocation gets",
    "concurrency": "the most sandboxes alive at once",
    "eager_assignment": "a pending request goes to whichever sandbox frees first (Lambda's "
    "behaviour, the source of proactive initializations); false binds it to the new sandbox",
    "idle_expiry_s": "shut a sandbox down after this long idle (not set: never during the run)",
    "prewarm": "sandboxes started at t=0 before any request (and on each deploy)",
    "arrivals": "request arrival times, seconds from the start; equal times arrive together",
    "rate_per_s": "with duration_s: evenly spaced arrivals instead of a list",
    "duration_s": "with rate_per_s",
    "events": "request payloads, cycled over the requests, handed to the handler unchanged",
    "deploys": "times (s) of a new version: every sandbox retires, new ones start unasked",
    "rotations": "times (s) Lambda replaces its oldest sandbox with a fresh one",
    "env": "the function's environment variables (e.g. OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS, "
    "AWS_LAMBDA_EXEC_WRAPPER); --env and your shell's OTEL_* variables win",
    "drain_s": "seconds to wait after the last response before spinning sandboxes down",
    "web_adapter": "a web app behind the Lambda Web Adapter: the adapter binary, or LWA_BIN for "
    "that variable's; the handler is then the app's run.sh (docs/web-apps.md)",
}


def _text(value: Any) -> str:
    return f"the text {value!r}" if isinstance(value, str) else f"{value!r}"


def _number(key: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{key}: expected a number, got {_text(value)}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{key}: expected a number, got {_text(value)}") from None
    if number != number or number < minimum or number == float("inf"):
        raise ValueError(f"{key}: expected a number >= {minimum:g}, got {_text(value)}")
    return number


def _integer(key: str, value: Any, *, minimum: int = 0) -> int:
    number = _number(key, value, minimum=minimum)
    if number != int(number):
        raise ValueError(f"{key}: expected a whole number >= {minimum}, got {_text(value)}")
    return int(number)


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"{key}: expected true or false, got {_text(value)}")


def _trigger(key: str, value: Any) -> str:
    text = _string(key, value)
    if text not in TRIGGERS:
        raise ValueError(f"{key}: expected one of {', '.join(TRIGGERS)}, got {_text(value)}")
    return text


def _string(key: str, value: Any) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{key}: expected text, got {_text(value)}")


def _list(key: str, value: Any, example: str) -> list[Any]:
    if isinstance(value, list):
        return value
    raise ValueError(f"{key}: expected a list such as {example}, got {_text(value)}")


def _times(key: str, value: Any) -> list[float]:
    items = _list(key, value, "[0.0, 0.3]")
    return [_number(f"{key}[{i}]", v) for i, v in enumerate(items)]


def _env(key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{key}: expected a mapping of NAME: value, got {_text(value)}")
    return {str(k): _string(f"{key}.{k}", v) for k, v in value.items()}


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    text = _string(key, value)
    if text not in choices:
        raise ValueError(f"{key}: expected one of {', '.join(choices)}, got {_text(value)}")
    return text


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "name": _string,
    "description": _string,
    "handler": _string,
    "code_dir": _string,
    "layers": lambda k, v: [_string(f"{k}[{i}]", x) for i, x in enumerate(_list(k, v, "[a.zip]"))],
    "function_name": _string,
    "initialization_type": lambda k, v: _choice(k, v, INITIALIZATION_TYPES),
    "execution_env": _string,
    "memory_mb": lambda k, v: _integer(k, v, minimum=128),
    "extension_init_ms": _number,
    "trigger": _trigger,
    "front_end_skew_ms": lambda k, v: _number(k, v, minimum=-60_000.0),
    "init_ms": _number,
    "handler_ms": _number,
    "init_timeout_s": lambda k, v: _number(k, v, minimum=0.001),
    "function_timeout_s": lambda k, v: _number(k, v, minimum=0.001),
    "concurrency": lambda k, v: _integer(k, v, minimum=1),
    "eager_assignment": _boolean,
    "idle_expiry_s": _number,
    "prewarm": _integer,
    "arrivals": _times,
    "rate_per_s": _number,
    "duration_s": _number,
    "events": lambda k, v: _list(k, v, "[{path: /orders/1}]"),
    "deploys": _times,
    "rotations": _times,
    "env": _env,
    "drain_s": _number,
    "web_adapter": _string,
}


def check_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The values checked and converted, key by key; null keeps a key's default."""
    return {k: _CHECKS[k](k, v) for k, v in data.items() if v is not None}


# Defaults that depend on where the simulator runs, or mean more than their value, as the
# table says them (the same on every interpreter, so the docs test holds on each).
_SHOWN_DEFAULTS = {
    "name": "the file's stem",
    "execution_env": "`AWS_Lambda_python3.X`, the simulator's own Python",
    "code_dir": "the current directory",
    "events": "`{}` for every request",
    "arrivals": "none",
}


def keys_table(defaults: Mapping[str, Any]) -> str:
    """The Markdown table of every key, its default and what it does (docs/simulator.md)."""
    rows = ["| key | default | what it does |", "|---|---|---|"]
    for key, meaning in SCENARIO_KEYS.items():
        default = defaults.get(key)
        shown = "not set" if default in (None, [], {}, "") else f"`{default}`"
        shown = _SHOWN_DEFAULTS.get(key, shown)
        rows.append(f"| `{key}` | {shown} | {meaning.replace('|', '/')} |")
    return "\n".join(rows) + "\n"
