"""One Lambda execution environment: a RuntimeApi plus a runtime process started as Lambda does.

The process is launched through a copy of the managed runtime's bootstrap shell script (so
AWS_LAMBDA_EXEC_WRAPPER behaves as in Lambda, exit codes 126/127 included), with Lambda's
environment variables, its own TMPDIR (Lambda's /tmp), in its own process group so nothing it
starts can outlive the sandbox.
"""

from __future__ import annotations

import _thread
import atexit
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import IO, Any

from .cpu_share import CpuShare
from .function import FunctionConfig
from .launch import (
    BOOTSTRAP_SH,
    lambda_environment,
    log_stream_name,
    prepare_runtime_dir,
    start_extension,
    start_runtime,
)
from .outcomes import Attempt, ExtensionProc, InitOutcome, ShutdownOutcome, read_init_outcome
from .runtime_api import Invocation, InvocationResult, RuntimeApi
from .stall import watch_init
from .timeouts import enforce_function_timeout, signal_shutdown

__all__ = [
    "BOOTSTRAP_SH",
    "InitOutcome",
    "Sandbox",
    "ShutdownOutcome",
    "log_stream_name",
    "prepare_runtime_dir",
]

_LIVE: weakref.WeakSet[Sandbox] = weakref.WeakSet()


def _kill_all_live() -> None:
    for sandbox in list(_LIVE):
        sandbox.kill()


atexit.register(_kill_all_live)


class Sandbox:
    """One execution environment; start() runs INIT in the background, invoke() serves events."""

    def __init__(
        self,
        function: FunctionConfig | str,
        code_dir: Path | str | None = None,
        *,
        name: str | None = None,
        python: str | None = None,
        **settings: Any,
    ) -> None:
        """function is what every sandbox of the function shares; name and python are this
        sandbox's own. `Sandbox("app.handler", code_dir, env=...)` is shorthand for
        `Sandbox(FunctionConfig.of("app.handler", code_dir, env=...))`."""
        function = FunctionConfig.given(function, code_dir, settings)
        self.function = function
        self.name = name or f"sbx-{uuid.uuid4().hex[:6]}"
        self.python = python or sys.executable
        self.log_stream_name: str | None = (
            None
            if function.initialization_type == "snap-start"
            else log_stream_name(function.function_version)
        )
        self.api = RuntimeApi(function)
        self.attempts: list[Attempt] = []
        self.init_outcome: InitOutcome | None = None
        self.shutdown_outcome: ShutdownOutcome | None = None
        self.created_ns = 0
        self._dir: Path | None = None
        self._log_path: Path | None = None
        self._log_fh: IO[bytes] | None = None
        self._logs_cache: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ext_procs: list[ExtensionProc] = []
        self._lock = threading.RLock()
        self._needs_init_rerun = False
        self._needs_reset_init = False  # a function timeout reset the runtime
        self.timeouts: list[str] = []  # request ids Lambda timed out
        self._closed = False
        self.cpu: CpuShare | None = None  # FunctionConfig.cpu_share, where the host allows
        self.stall_records: list[str] = []  # files stall.record_stall wrote

    # properties ------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def exit_code(self) -> int | None:
        return self._proc.poll() if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def tmpdir(self) -> Path:
        if self._dir is None:
            raise RuntimeError("sandbox not started")
        return self._dir / "tmp"

    @property
    def directory(self) -> Path | None:
        return self._dir

    @property
    def expected_extensions(self) -> list[Path]:
        extensions_dir = self.function.extensions_dir
        if extensions_dir is None or not extensions_dir.is_dir():
            return []
        return sorted(p for p in extensions_dir.iterdir() if p.is_file() and os.access(p, os.X_OK))

    def logs(self) -> str:
        """Everything the runtime and its extensions wrote to stdout/stderr."""
        if self._logs_cache is not None:
            return self._logs_cache
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(errors="replace")

    def environment(self) -> dict[str, str]:
        """The sandbox's environment, built from scratch as Lambda does (function env wins)."""
        assert self._dir is not None
        return lambda_environment(
            self.function,
            python=self.python,
            api_address=self.api.address,
            runtime_dir=self._dir / "runtime",
            tmpdir=self.tmpdir,
            log_stream=self.log_stream_name,
        )

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Create the sandbox and start INIT; returns at once."""
        with self._lock:
            if self._dir is not None:
                return self
            self.created_ns = time.time_ns()
            self._dir = Path(tempfile.mkdtemp(prefix=f"otel-lambda-{self.name}-"))
            self.tmpdir.mkdir()
            prepare_runtime_dir(self._dir / "runtime")
            self._log_path = self._dir / "sandbox.log"
            self._log_fh = self._log_path.open("ab")
            self.api.start()
            _LIVE.add(self)
            try:
                self._launch()
            except BaseException:
                self.kill()
                raise
        return self

    def _launch(self, *, capped: bool = True) -> None:
        """Start the runtime process (and external extensions) for one INIT attempt."""
        assert self._dir is not None and self._log_fh is not None
        extensions = self.expected_extensions
        self.api.mark_init_start({p.name for p in extensions})
        env = self.environment()
        runtime_dir = self._dir / "runtime"
        if self.function.cpu_share and self.cpu is None:
            self.cpu = CpuShare(self.function.memory_mb)
        proc = start_runtime(
            runtime_dir, self.python, self.function.code_dir, env, self._log_fh, self.cpu
        )
        self._proc = proc
        attempt = Attempt(pid=proc.pid, started_ns=self.api.init_start_ns)
        self.attempts.append(attempt)
        self._ext_procs = []
        for path in extensions:
            ext = start_extension(path, env, self._log_fh, proc.pid, self.cpu)
            self._ext_procs.append(ExtensionProc(path.name, ext))
            threading.Thread(
                target=self._watch_extension, args=(path.name, ext), daemon=True
            ).start()
        threading.Thread(target=self._watch_runtime, args=(proc, attempt), daemon=True).start()
        if not capped:
            return
        generation = self.api.generation
        cap_s = self.function.init_timeout_s
        timer = threading.Timer(cap_s, self._init_cap_hit, args=(generation,))
        timer.daemon = True
        timer.start()
        watch_init(self, generation, cap_s)

    def _watch_runtime(self, proc: subprocess.Popen[bytes], attempt: Attempt) -> None:
        code = proc.wait()
        attempt.exit_code = code
        if self._proc is proc:
            self.api.runtime_exited(code)

    def _watch_extension(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        proc.wait()
        self.api.external_extension_exited(name)

    def _init_cap_hit(self, generation: int) -> None:
        """Lambda's INIT cap: kill the runtime; the first invocation re-runs INIT."""
        with self._lock:
            api = self.api
            if self._closed or api.generation != generation or api.init_done:
                return
            if api.init_error is not None or not self.running:
                return
            self.attempts[-1].killed_for_timeout = True
            self._needs_init_rerun = True
            self._killpg(signal.SIGKILL)
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=2)

    def wait_init(self, timeout: float | None = None) -> InitOutcome:
        """Block until INIT ends one way or another (bounded: cap + margin by default)."""
        if self.init_outcome is not None:
            return self.init_outcome
        if self._dir is None:
            self.start()
        limit = timeout if timeout is not None else self.function.init_timeout_s + 5.0
        deadline = time.monotonic() + limit
        while True:
            outcome = self._init_state()
            if outcome is not None:
                if not outcome.ok and self.stall_records:
                    outcome.evidence = " ".join(self.stall_records)
                self.init_outcome = outcome
                return outcome
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = f" (stacks in {' '.join(self.stall_records)})" if self.stall_records else ""
                raise TimeoutError(f"{self.name}: INIT still running after {limit}s{seen}")
            self.api.wait_event(min(remaining, 0.05))

    def _init_state(self) -> InitOutcome | None:
        return read_init_outcome(
            self.api, self.attempts, self.exit_code, self.function.init_timeout_s
        )

    @property
    def queues_at_once(self) -> bool:
        """Whether ``submit`` only queues: INIT is over and nothing has to re-run it."""
        outcome = self.init_outcome
        return outcome is not None and outcome.status == "done" and not self._needs_reset_init

    def submit(
        self,
        event: Any,
        *,
        trace_id: str | None = None,
        deadline_ms: int | None = None,
        request_id: str | None = None,
        client_context: str | dict[str, Any] | None = None,
        start_ns: int | None = None,
    ) -> Invocation:
        """Queue an invocation (blocks until INIT's outcome, re-running INIT after the cap)."""
        start_ns = start_ns or time.time_ns()
        enqueue = functools.partial(
            self.api.enqueue, event, request_id=request_id, trace_id=trace_id,
            deadline_ms=deadline_ms, client_context=client_context, start_ns=start_ns,
        )  # fmt: skip
        early = enqueue() if self._in_first_init() else None
        outcome, rerun = self._outcome_for_next_request()
        inv = early if early is not None else enqueue()
        inv.init_rerun = rerun
        if outcome.ok:
            # Not Thread.start: it waits for the thread to run (0.5 ms) on the hand-over path.
            _thread.start_new_thread(enforce_function_timeout, (self, inv, self.api.generation))
        else:
            payload = outcome.error_payload()
            self.api.fail_invocation(inv, outcome.error_type or "Runtime.Unknown", payload)
        return inv

    def _in_first_init(self) -> bool:
        """A request now waits in the sandbox, as a cold start's does on Lambda: handed over at
        INIT end, not when the caller's thread wakes (started, first INIT, nothing queued)."""
        with self._lock:
            fresh = self._dir is not None and self.init_outcome is None
            reset = self._needs_reset_init or self._needs_init_rerun
        snap = self.function.initialization_type == "snap-start"
        return fresh and not reset and not snap and not self.api.init_done and not self.api.busy

    def _outcome_for_next_request(self) -> tuple[InitOutcome, bool]:
        """INIT's outcome for the next request, and whether it re-ran INIT to get it: after a
        function timeout (Lambda resets the environment, /tmp kept) or after the INIT cap."""
        outcome = self.wait_init()
        reset = self._needs_reset_init
        if not reset and not (outcome.status == "timeout" and self._needs_init_rerun):
            return outcome, False
        with self._lock:
            if reset:
                self._needs_reset_init = False
            else:
                self._needs_init_rerun = False
            self.init_outcome = None
            self._launch(capped=False)
        # The re-run runs inside the invocation: bounded by the function timeout, not the cap.
        outcome = self.init_outcome = self._init_outcome_within(self.function.function_timeout_s)
        return outcome, True

    def _init_outcome_within(self, timeout_s: float) -> InitOutcome:
        if not self.api.wait_init(timeout_s):
            return self._init_state() or InitOutcome("timeout")
        return InitOutcome("done", (self.api.init_done_ns - self.api.init_start_ns) / 1e6)

    def invoke(
        self,
        event: Any,
        *,
        trace_id: str | None = None,
        deadline_ms: int | None = None,
        request_id: str | None = None,
        client_context: str | dict[str, Any] | None = None,
        timeout: float = 60.0,
    ) -> InvocationResult:
        """Invoke synchronously and wait until Lambda would consider the invocation complete."""
        inv = self.submit(
            event,
            trace_id=trace_id,
            deadline_ms=deadline_ms,
            request_id=request_id,
            client_context=client_context,
        )
        return inv.wait(timeout)

    def shutdown(self, reason: str = "spindown") -> ShutdownOutcome:
        """End the sandbox with Lambda's rules, then make sure nothing of it is left."""
        with self._lock:
            if self.shutdown_outcome is not None:
                return self.shutdown_outcome
            t0 = time.monotonic()
            proc = self._proc
            outcome = signal_shutdown(self.api, proc, self._ext_procs, reason, t0)
            if proc is not None and (
                proc.poll() is None or any(e.proc.poll() is None for e in self._ext_procs)
            ):
                outcome.sigkill_sent = True
            self.kill()
            outcome.exit_code = proc.returncode if proc is not None else None
            outcome.duration_ms = (time.monotonic() - t0) * 1000
            self.shutdown_outcome = outcome
            return outcome

    def kill(self) -> None:
        """SIGKILL the whole process group, stop the API, remove the sandbox directory."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._killpg(signal.SIGKILL)
            for p in [self._proc, *(e.proc for e in self._ext_procs)]:
                if p is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        p.wait(timeout=2)
            self.api.stop()
            if self.cpu is not None:
                self.cpu.close()
            if self._log_fh is not None:
                self._log_fh.close()
            with contextlib.suppress(OSError):
                self._logs_cache = self.logs()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
            _LIVE.discard(self)

    close = kill

    def _killpg(self, sig: int) -> None:
        for attempt in self.attempts:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(attempt.pid, sig)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.shutdown()
        else:
            self.kill()  # on errors and Ctrl-C: no grace, just leave nothing behind
