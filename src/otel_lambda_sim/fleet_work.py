"""Work the fleet's loop does once it has let go of its lock: starting a sandbox or a thread
takes milliseconds, and a sandbox's API thread waiting for that lock holds up a hand-over."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LaterWork"]


class LaterWork:
    """Steps queued under the fleet's lock, run by the loop's thread without it."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._steps: list[Callable[[], None]] = []
        self.threads: list[threading.Thread] = []

    def __bool__(self) -> bool:
        return bool(self._steps)

    def later(self, step: Callable[[], None]) -> None:
        """Queue a step (the lock held)."""
        self._steps.append(step)

    def spawn(self, target: Callable[..., object], *args: Any) -> None:
        """Queue a thread's start (the lock held)."""
        self._steps.append(functools.partial(self.start_thread, target, *args))

    def start_thread(self, target: Callable[..., object], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def run(self) -> None:
        """Every queued step, and those they queue, on this thread without the lock."""
        while True:
            with self._lock:
                steps, self._steps = self._steps, []
            if not steps:
                return
            for step in steps:
                step()
