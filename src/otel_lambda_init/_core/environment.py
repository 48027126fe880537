"""Sandbox facts read from the variables Lambda sets in every execution environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from . import vocabulary as v
from .vocabulary import INITIALIZATION_TYPES, ON_DEMAND

__all__ = [
    "INITIALIZATION_TYPES",
    "SandboxEnvironment",
    "read_environment",
    "traces_exporters",
    "user_named_service",
]


class SandboxEnvironment(NamedTuple):
    """What Lambda tells a sandbox about itself; every field may be absent outside Lambda."""

    function_name: str = "unknown-function"
    function_version: str | None = None
    memory_mb: int | None = None
    log_group_name: str | None = None
    log_stream_name: str | None = None
    initialization_type: str = ON_DEMAND
    region: str | None = None
    execution_env: str | None = None
    runtime_api: str | None = None
    handler: str | None = None
    task_root: str | None = None

    def resource_attributes(self) -> dict[str, str | int]:
        """Semantic-convention Resource attributes for this sandbox."""
        attrs: dict[str, str | int] = {
            v.CLOUD_PROVIDER: "aws",
            v.CLOUD_PLATFORM: "aws_lambda",
            v.FAAS_NAME: self.function_name,
        }
        if self.region:
            attrs[v.CLOUD_REGION] = self.region
        if self.function_version:
            attrs[v.FAAS_VERSION] = self.function_version
        if self.log_stream_name:
            attrs[v.FAAS_INSTANCE] = self.log_stream_name
        if self.memory_mb:
            attrs[v.FAAS_MAX_MEMORY] = self.memory_mb * 1024 * 1024
        return attrs

    @property
    def handler_module(self) -> str | None:
        """The module the runtime imports for ``_HANDLER`` (``ORIG_HANDLER`` under the
        wrapper), e.g. ``app`` for ``app.handler``."""
        if not self.handler or "." not in self.handler:
            return None
        return self.handler.rsplit(".", 1)[0].replace("/", ".")


MAX_VALUE_LENGTH = 256
"""Lambda's own values are far shorter (a function name is at most 64 characters); outside
Lambda anything can be set, and these become span names and resource attributes."""
MAX_MEMORY_MB = 1_048_576


def _cut(raw: str | None) -> str | None:
    return raw[:MAX_VALUE_LENGTH] if raw else raw


def _memory_mb(raw: str | None) -> int | None:
    if not raw or len(raw) > 12:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 0 < value <= MAX_MEMORY_MB else None


def read_environment(environ: Mapping[str, str] | None = None) -> SandboxEnvironment:
    """Read the sandbox's Lambda variables (``os.environ`` by default)."""
    env = os.environ if environ is None else environ
    return SandboxEnvironment(
        function_name=_cut(env.get("AWS_LAMBDA_FUNCTION_NAME")) or "unknown-function",
        function_version=_cut(env.get("AWS_LAMBDA_FUNCTION_VERSION")),
        memory_mb=_memory_mb(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")),
        log_group_name=_cut(env.get("AWS_LAMBDA_LOG_GROUP_NAME")),
        log_stream_name=_cut(env.get("AWS_LAMBDA_LOG_STREAM_NAME")),
        initialization_type=(_cut(env.get("AWS_LAMBDA_INITIALIZATION_TYPE")) or ON_DEMAND).strip(),
        region=_cut(env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")),
        execution_env=_cut(env.get("AWS_EXECUTION_ENV")),
        runtime_api=env.get("AWS_LAMBDA_RUNTIME_API"),
        handler=env.get("ORIG_HANDLER") or env.get("_HANDLER"),
        task_root=env.get("LAMBDA_TASK_ROOT"),
    )


def user_named_service(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES`` names the service (then
    it wins over the function's name)."""
    env = os.environ if environ is None else environ
    if (env.get("OTEL_SERVICE_NAME") or "").strip():
        return True
    attributes = env.get("OTEL_RESOURCE_ATTRIBUTES") or ""
    return any(part.strip().startswith("service.name=") for part in attributes.split(","))


def traces_exporters(environ: Mapping[str, str] | None = None) -> list[str]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (``otlp`` by default), lower-cased; the
    provider builds them, and the SDK-free shutdown export must read them the same way."""
    env = os.environ if environ is None else environ
    return [n.strip().lower() for n in (env.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")]
