"""What the SDK adapters need of the sandbox's owner: handed in, never looked up."""

from __future__ import annotations

from typing import Protocol

from opentelemetry.trace import TracerProvider

from .._core import vocabulary as v
from .._core.claims import InvocationClaims
from .._core.config import Config
from .._core.environment import SandboxEnvironment
from .._core.timeline import SandboxTimeline
from .emitter import InitSpanEmitter


class InvocationHost(Protocol):
    """What the wrapper needs of the sandbox's owner (handed in, never looked up)."""

    @property
    def config(self) -> Config: ...
    @property
    def env(self) -> SandboxEnvironment: ...
    @property
    def timeline(self) -> SandboxTimeline: ...
    @property
    def claims(self) -> InvocationClaims: ...
    @property
    def emitter(self) -> InitSpanEmitter: ...
    def provider(self) -> TracerProvider: ...
    def end_init(self, end_ns: int, source: v.EndSource) -> None: ...
    def invocation_finished(self, request_id: str | None, provider: TracerProvider) -> None: ...
