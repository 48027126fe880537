"""The one object that owns this sandbox's instrumentation state (no scattered flags)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import trace

from ._safety import quiet_repeated_export_errors, report_once
from .config import Config, load_config
from .environment import SandboxEnvironment, read_environment
from .flush import flusher
from .spans import InitSpanEmitter
from .timeline import SandboxTimeline, sandbox_timeline, watch_runtime_next


class SandboxState:
    """Configuration, sandbox facts, timeline and init span of this process."""

    def __init__(
        self,
        config: Config,
        env: SandboxEnvironment,
        timeline: SandboxTimeline,
        emitter: InitSpanEmitter,
    ) -> None:
        self.config = config
        self.env = env
        self.timeline = timeline
        self.emitter = emitter
        self.get_provider: Callable[[], Any] = trace.get_tracer_provider
        self._delivery_started = False

    def apply_overrides(self, **overrides: Any) -> None:
        """Keyword arguments of the public API win over environment variables."""
        self.config = self.config.with_overrides(**overrides)
        self.emitter.config = self.config

    def start_delivery(self) -> None:
        """During INIT, set up how spans leave the sandbox: the after-response extension
        (which also brings SIGTERM at shutdown), or a fallback to ``sync`` said once."""
        if self._delivery_started:
            return
        self._delivery_started = True
        if self.config.flush != "after-response":
            return
        from .extension import install_sigterm_export, start_after_response

        if self.env.runtime_api and self.timeline.init.end_ns is None:
            started = start_after_response(self.env.runtime_api, self.config.flush_timeout_ms)
        else:
            report_once(
                "extension-late",
                "after-response flushing needs the package set up during INIT (or a Runtime "
                "API); falling back to OTEL_LAMBDA_INIT_FLUSH=sync",
                exc_info=False,
            )
            started = False
        if not started:
            self.apply_overrides(flush="sync")
            return
        install_sigterm_export(self.export_at_shutdown)

    def export_at_shutdown(self, seconds: float) -> None:
        """Lambda is shutting the sandbox down: export an INIT nobody used, then the rest."""
        provider = self.get_provider()
        self.emitter.emit_unused(provider, time.time_ns())
        flusher.flush(provider, seconds)


_state: SandboxState | None = None
_lock = threading.Lock()


def sandbox_state() -> SandboxState:
    """This process's state, created on first use (reads env vars and /proc once)."""
    global _state
    if _state is None:
        with _lock:
            if _state is None:
                config = load_config()
                env = read_environment()
                timeline = sandbox_timeline()
                watch_runtime_next()
                quiet_repeated_export_errors()
                _state = SandboxState(config, env, timeline, InitSpanEmitter(config, env, timeline))
    return _state


def reset_state_for_tests() -> None:
    """Forget the process's state (tests only)."""
    global _state
    _state = None
