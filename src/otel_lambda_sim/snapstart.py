"""SnapStart: INIT once at publish time, then restore the snapshot into each new sandbox.

The snapshot is a live runtime process parked after INIT (see runtime/snapshot_fork.py); each
restore forks it, so every restored sandbox starts from the same memory, including the random
module's state, exactly the hazard real SnapStart has. /tmp is copied too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .function import FunctionConfig
from .launch import prepare_runtime_dir
from .outcomes import Attempt
from .sandbox import Sandbox

__all__ = ["RestoredSandbox", "Snapshot"]


class _ForeignProcess:
    """A restored child: forked by the snapshot, so not ours to wait for; watched via /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                with open(f"/proc/{self.pid}/stat") as fh:
                    if fh.read().split(") ", 1)[1][0] == "Z":
                        self.returncode = -1
            except (FileNotFoundError, ProcessLookupError):
                self.returncode = -1  # gone; its exit status went to the snapshot process
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = time.monotonic() + (timeout if timeout is not None else 3600)
        while self.poll() is None:
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode if self.returncode is not None else -1

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)


class Snapshot(Sandbox):
    """The publish-time INIT of a SnapStart function; restore() makes restored sandboxes."""

    def __init__(
        self,
        function: FunctionConfig | str,
        code_dir: Path | str | None = None,
        *,
        name: str | None = None,
        python: str | None = None,
        **settings: Any,
    ) -> None:
        function = FunctionConfig.given(function, code_dir, settings)
        # The bootstrap parks a snap-start runtime as a snapshot only when this is set.
        function = function.with_(
            initialization_type="snap-start",
            env={**function.env, "_OTEL_LAMBDA_SIM_SNAPSHOT_ADDRESS": "1"},
        )
        super().__init__(function, name=name, python=python)

    def restore(self, timeout: float = 10.0) -> RestoredSandbox:
        """A new sandbox restored from this snapshot (INIT must have finished)."""
        outcome = self.wait_init()
        if not outcome.ok:
            raise RuntimeError(f"snapshot INIT did not finish: {outcome}")
        restored = RestoredSandbox(self, timeout=timeout)
        restored.start()
        return restored


class RestoredSandbox(Sandbox):
    """A sandbox whose runtime is a fork of the snapshot; invoke() and shutdown() as usual."""

    def __init__(self, snapshot: Snapshot, timeout: float = 10.0) -> None:
        super().__init__(snapshot.function, python=snapshot.python)
        self.snapshot = snapshot
        self.fork_timeout = timeout
        self.api.restore_mode = True

    def start(self) -> RestoredSandbox:
        with self._lock:
            if self._dir is not None:
                return self
            self.created_ns = time.time_ns()
            self._dir = Path(tempfile.mkdtemp(prefix=f"otel-lambda-{self.name}-"))
            shutil.copytree(self.snapshot.tmpdir, self.tmpdir)  # /tmp is part of the snapshot
            prepare_runtime_dir(self._dir / "runtime")
            self._log_path = self._dir / "sandbox.log"
            self._log_fh = self._log_path.open("ab")
            self.api.start()
            self.api.mark_init_start()
            self.api.allow_restore()
            order = {
                "id": uuid.uuid4().hex,
                "address": self.api.address,
                "log": str(self._log_path),
                "tmpdir": str(self.tmpdir),
            }
            pid = self.snapshot.api.request_fork(order, self.fork_timeout)
            proc = _ForeignProcess(pid)
            self._proc = proc  # type: ignore[assignment]
            attempt = Attempt(pid=pid, started_ns=self.api.init_start_ns)
            self.attempts.append(attempt)
            threading.Thread(target=self._watch_foreign, args=(proc, attempt), daemon=True).start()
        return self

    def _watch_foreign(self, proc: _ForeignProcess, attempt: Attempt) -> None:
        while not self._closed and proc.poll() is None:
            time.sleep(0.05)
        attempt.exit_code = proc.returncode
        self.api.runtime_exited(proc.returncode)

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGKILL)  # if it had not left the group yet
        super().kill()
