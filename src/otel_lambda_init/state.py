"""The one object that owns this sandbox's instrumentation state (no scattered flags)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .config import Config, load_config
from .environment import SandboxEnvironment, read_environment
from .spans import InitSpanEmitter
from .timeline import SandboxTimeline, sandbox_timeline, watch_runtime_next


@dataclass
class SandboxState:
    """Configuration, sandbox facts, timeline and init span of this process."""

    config: Config
    env: SandboxEnvironment
    timeline: SandboxTimeline
    emitter: InitSpanEmitter

    def apply_overrides(self, **overrides: Any) -> None:
        """Keyword arguments of the public API win over environment variables."""
        self.config = self.config.with_overrides(**overrides)
        self.emitter.config = self.config


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
                _state = SandboxState(config, env, timeline, InitSpanEmitter(config, env, timeline))
    return _state


def reset_state_for_tests() -> None:
    """Forget the process's state (tests only)."""
    global _state
    _state = None
