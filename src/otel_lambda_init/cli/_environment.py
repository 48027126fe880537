"""The sandboxes' environment beyond Lambda's own, and where each value came from: the
scenario's, then the user's OTEL_* settings, then --env, then --threshold-ms."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ._errors import UsageError

__all__ = ["SandboxEnv", "build_env", "shown", "threshold_in_effect"]

# Names whose values never reach the terminal (headers carry API keys).
_SECRET_MARKERS = ("HEADERS", "KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH")
_THRESHOLD = "OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS"


@dataclass
class SandboxEnv:
    """What the CLI adds to every sandbox (env), what they end up with (merged with the
    scenario's), where each value came from, and the backend URL and its origin."""

    env: dict[str, str]
    merged: dict[str, str]
    sources: dict[str, str] = field(default_factory=dict)
    backend_url: str | None = None
    backend_origin: str = ""


def shown(name: str, value: str) -> str:
    """NAME=VALUE for the terminal, the value hidden for names that may carry secrets."""
    return f"{name}=***" if any(m in name.upper() for m in _SECRET_MARKERS) else f"{name}={value}"


def parse_env(items: Sequence[str]) -> dict[str, str]:
    """--env NAME=VALUE options as a mapping."""
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--env {item!r}: expected NAME=VALUE")
        env[name] = value
    return env


def _resolve_wrapper(env: dict[str, str], scenario_env: Mapping[str, str]) -> None:
    """Lambda's bootstrap execs a path; a bare wrapper name means "the one on my PATH"."""
    wrapper = env.get("AWS_LAMBDA_EXEC_WRAPPER") or scenario_env.get("AWS_LAMBDA_EXEC_WRAPPER")
    if wrapper and "/" not in wrapper:
        found = shutil.which(wrapper)
        if found is None:
            raise UsageError(f"AWS_LAMBDA_EXEC_WRAPPER={wrapper}: not found on PATH")
        env["AWS_LAMBDA_EXEC_WRAPPER"] = found


def _take_backend(env: dict[str, str], endpoint: str | None) -> tuple[str | None, str]:
    """The backend URL and where it came from; the sandboxes export to the local receiver."""
    traces = env.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
    general = env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if endpoint:
        return endpoint, "--endpoint"
    if traces:
        return traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    if general:
        return general, "OTEL_EXPORTER_OTLP_ENDPOINT"
    return None, ""


def build_env(
    scenario_env: Mapping[str, str],
    given: Sequence[str],
    threshold_ms: float | None,
    threshold_origin: str,
    endpoint: str | None,
) -> SandboxEnv:
    """Layer the sources in order (later wins) and say where each value came from."""
    sources = {k: "the scenario" for k in scenario_env}
    env = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}
    sources.update({k: "your shell" for k in env})
    options = parse_env(given)
    env.update(options)
    sources.update({k: "--env" for k in options})
    if threshold_ms is not None:
        env[_THRESHOLD] = f"{threshold_ms:g}"
        sources[_THRESHOLD] = threshold_origin
    _resolve_wrapper(env, scenario_env)
    backend_url, origin = _take_backend(env, endpoint)
    env.setdefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    return SandboxEnv(env, {**scenario_env, **env}, sources, backend_url, origin)


def threshold_in_effect(merged: Mapping[str, str], sources: Mapping[str, str]) -> tuple[float, str]:
    """The proactive threshold the sandboxes will use (ms, as a number) and a line saying it
    and where it came from; a value the instrumentation would reject falls back, as it does."""
    from .._core.config import Config, load_config

    default_ms = Config().proactive_threshold_ms
    if _THRESHOLD in merged:
        configured = load_config({_THRESHOLD: merged[_THRESHOLD]}).proactive_threshold_ms
        text = f"{_THRESHOLD}={merged[_THRESHOLD]} ms"
        return configured, f"{text} (from {sources.get(_THRESHOLD, 'the scenario')})"
    return default_ms, f"{default_ms:.0f} ms (default; {_THRESHOLD} not set)"
