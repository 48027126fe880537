"""One Lambda execution environment: a RuntimeApi plus a runtime process started as Lambda does.

The process is launched through a copy of the managed runtime's bootstrap shell script (so
AWS_LAMBDA_EXEC_WRAPPER behaves as in Lambda, exit codes 126/127 included), with Lambda's
environment variables, its own TMPDIR (Lambda's /tmp), in its own process group so nothing it
starts can outlive the sandbox.
"""

from __future__ import annotations

import atexit
import contextlib
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .function import FunctionConfig
from .runtime_api import Invocation, InvocationResult, RuntimeApi

__all__ = ["InitOutcome", "Sandbox", "ShutdownOutcome", "BOOTSTRAP_SH"]

# What the managed Python runtime's /var/runtime/bootstrap does with the exec wrapper.
BOOTSTRAP_SH = """#!/bin/sh
# The simulator's copy of the managed runtime's bootstrap: $1 is python, $2 bootstrap.py.
if [ -z "${AWS_LAMBDA_EXEC_WRAPPER:-}" ]; then
  exec "$@"
fi
wrapper="$AWS_LAMBDA_EXEC_WRAPPER"
if [ ! -f "$wrapper" ]; then
  echo "$wrapper: does not exist" >&2
  exit 127
fi
if [ ! -x "$wrapper" ]; then
  echo "$wrapper: is not an executable" >&2
  exit 126
fi
exec "$wrapper" "$@"
"""

_RUNTIME_FILES = Path(__file__).with_name("runtime")
# Lambda's shutdown budgets.
_SIGTERM_GRACE_INTERNAL_S = 0.5
_SIGTERM_GRACE_EXTERNAL_S = 0.3
_SHUTDOWN_TOTAL_EXTERNAL_S = 2.0

_LIVE: weakref.WeakSet[Sandbox] = weakref.WeakSet()


def _kill_all_live() -> None:
    for sandbox in list(_LIVE):
        sandbox.kill()


atexit.register(_kill_all_live)


@dataclass
class InitOutcome:
    """How INIT ended: done, error (init/error posted), exited (process died) or timeout (cap)."""

    status: str
    duration_ms: float = 0.0
    error_type: str | None = None
    body: Any = None
    exit_code: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "done"


@dataclass
class ShutdownOutcome:
    """What shutdown did, for tests of Lambda's SIGTERM/SIGKILL rules."""

    reason: str
    mode: str  # "no-extensions" | "internal" | "external" | "not-running"
    sigterm_sent: bool = False
    sigkill_sent: bool = False
    exit_code: int | None = None
    duration_ms: float = 0.0
    shutdown_event_sent: bool = False


@dataclass
class _Attempt:
    pid: int
    started_ns: int
    exit_code: int | None = None
    killed_for_timeout: bool = False
    reset_for_function_timeout: bool = False  # Lambda reset it: an invocation timed out


@dataclass
class _ExtensionProc:
    name: str
    proc: subprocess.Popen[bytes]


def log_stream_name(version: str = "$LATEST") -> str:
    """Lambda's log stream format, unique per sandbox: 2026/11/23/[$LATEST]<32 hex>."""
    return time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{version}]{uuid.uuid4().hex}"


def prepare_runtime_dir(target: Path) -> Path:
    """Write the bootstrap script and bootstrap.py into target (the sandbox's /var/runtime)."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "bootstrap").write_text(BOOTSTRAP_SH)
    for name in ("bootstrap.py", "snapshot_fork.py"):
        src = _RUNTIME_FILES / name
        if src.exists():
            shutil.copyfile(src, target / name)
    return target


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
        self.attempts: list[_Attempt] = []
        self.init_outcome: InitOutcome | None = None
        self.shutdown_outcome: ShutdownOutcome | None = None
        self.created_ns = 0
        self._dir: Path | None = None
        self._log_path: Path | None = None
        self._log_fh: IO[bytes] | None = None
        self._logs_cache: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ext_procs: list[_ExtensionProc] = []
        self._lock = threading.RLock()
        self._needs_init_rerun = False
        self._needs_reset_init = False  # a function timeout reset the runtime
        self.timeouts: list[str] = []  # request ids Lambda timed out
        self._closed = False

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
        fn = self.function
        bin_dirs = [str(Path(self.python).parent)] + [str(d / "bin") for d in fn.layer_dirs]
        python_path = [str(fn.code_dir)] + [str(d / "python") for d in fn.layer_dirs]
        env = {
            "PATH": ":".join([*bin_dirs, "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": fn.handler,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": fn.function_version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.log_group_name,
            "AWS_LAMBDA_INITIALIZATION_TYPE": fn.initialization_type,
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "LAMBDA_TASK_ROOT": str(fn.code_dir),
            "LAMBDA_RUNTIME_DIR": str(self._dir / "runtime"),
            "PYTHONPATH": ":".join(python_path),
            "TMPDIR": str(self.tmpdir),
        }
        if fn.execution_env:  # a container image on a non-AWS base image sets none
            env["AWS_EXECUTION_ENV"] = fn.execution_env
        if self.log_stream_name:
            env["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream_name
        if fn.exec_wrapper:
            env["AWS_LAMBDA_EXEC_WRAPPER"] = fn.exec_wrapper
        if fn.extensions_dir is not None:
            # Lambda runs external extensions from /opt/extensions, where otel-lambda-init
            # looks for them; the simulator cannot write /opt, so it says where they are.
            env["OTEL_LAMBDA_INIT_EXTENSIONS_DIR"] = str(fn.extensions_dir)
        env.update(fn.env)
        if fn.managed_instances:
            # awslambdaric's multi-concurrent mode: one forked worker per slot, each its INIT.
            env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(fn.max_concurrency)
        else:
            env.pop("AWS_LAMBDA_MAX_CONCURRENCY", None)  # would switch awslambdaric to LMI
        return env

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
        proc = subprocess.Popen(
            [
                "/bin/sh",
                str(runtime_dir / "bootstrap"),
                self.python,
                str(runtime_dir / "bootstrap.py"),
            ],
            cwd=self.function.code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            # Its own process group (not a new session, so external extensions can join it):
            # killpg then reaches everything the sandbox started.
            **_group_kwargs(0),
        )
        self._proc = proc
        attempt = _Attempt(pid=proc.pid, started_ns=self.api.init_start_ns)
        self.attempts.append(attempt)
        self._ext_procs = []
        for path in extensions:
            ext = subprocess.Popen(
                [str(path)],
                cwd="/",
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log_fh,
                stderr=subprocess.STDOUT,
                **_group_kwargs(proc.pid),
            )
            self._ext_procs.append(_ExtensionProc(path.name, ext))
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

    def _watch_runtime(self, proc: subprocess.Popen[bytes], attempt: _Attempt) -> None:
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
                self.init_outcome = outcome
                return outcome
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: INIT still running after {limit}s")
            self.api.wait_event(min(remaining, 0.05))

    def _init_state(self) -> InitOutcome | None:
        api = self.api
        start = api.init_start_ns
        if api.init_done:
            return InitOutcome("done", (api.init_done_ns - start) / 1e6)
        now_ms = (time.time_ns() - start) / 1e6
        if api.init_error is not None:
            body = api.init_error["body"]
            message = body.get("errorMessage", "") if isinstance(body, dict) else str(body)
            return InitOutcome(
                "error",
                (api.init_error["time_ns"] - start) / 1e6,
                error_type=api.init_error["error_type"],
                body=body,
                exit_code=self.exit_code,
                message=message,
            )
        if self.attempts and self.attempts[-1].killed_for_timeout:
            return InitOutcome(
                "timeout",
                now_ms,
                exit_code=self.attempts[-1].exit_code,
                message=(
                    f"INIT did not finish within {self.function.init_timeout_s}s; runtime killed"
                ),
            )
        code = self.exit_code
        if code is not None:
            return InitOutcome(
                "exited",
                now_ms,
                exit_code=code,
                error_type="Runtime.ExitError",
                message=f"Runtime exited with error: exit status {code}",
            )
        return None

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
        """Queue an invocation after INIT (re-running it if the cap killed it); non-blocking
        only once INIT has ended, since the re-run happens here."""
        start_ns = start_ns or time.time_ns()
        outcome = self.wait_init()
        rerun = False
        if self._needs_reset_init:
            # After a function timeout Lambda resets the environment: the next request runs
            # a fresh INIT (phase invoke) in the same sandbox, /tmp kept.
            with self._lock:
                self._needs_reset_init = False
                self.init_outcome = None
                self._launch(capped=False)
            outcome = self.init_outcome = self._init_outcome_within(
                self.function.function_timeout_s
            )
            rerun = True
        if outcome.status == "timeout" and self._needs_init_rerun:
            rerun = True
            with self._lock:
                self._needs_init_rerun = False
                self.init_outcome = None
                self._launch(capped=False)
            # The re-run runs inside the invocation: bounded by the function timeout, not the cap.
            outcome = self.init_outcome = self._init_outcome_within(
                self.function.function_timeout_s
            )
        inv = self.api.enqueue(
            event,
            request_id=request_id,
            trace_id=trace_id,
            deadline_ms=deadline_ms,
            client_context=client_context,
            start_ns=start_ns,
        )
        inv.init_rerun = rerun
        if outcome.status == "done":
            threading.Thread(
                target=self._enforce_function_timeout,
                args=(inv, self.api.generation),
                daemon=True,
            ).start()
        if outcome.status != "done":
            payload = (
                outcome.body
                if isinstance(outcome.body, dict)
                else {
                    "errorType": outcome.error_type or "Runtime.Unknown",
                    "errorMessage": outcome.message,
                }
            )
            self.api.fail_invocation(inv, outcome.error_type or "Runtime.Unknown", payload)
        return inv

    def _init_outcome_within(self, timeout_s: float) -> InitOutcome:
        if not self.api.wait_init(timeout_s):
            return self._init_state() or InitOutcome("timeout")
        return InitOutcome("done", (self.api.init_done_ns - self.api.init_start_ns) / 1e6)

    def _enforce_function_timeout(self, inv: Invocation, generation: int) -> None:
        """Lambda's function timeout: an invocation not answered by its deadline fails with
        Sandbox.Timedout and the runtime is reset: SIGTERM (and a grace period) when an
        extension is registered, then SIGKILL; the next request re-runs INIT."""
        limit = time.monotonic() + self.function.function_timeout_s + 120.0
        while not inv.served_ns and not inv.done and time.monotonic() < limit:
            if self._closed or self.api.generation != generation:
                return
            self.api.wait_event(0.05)
        if not inv.served_ns or inv.done:
            return
        # The function timeout counts from when the runtime received the event; a deadline
        # the caller forced (deadline_ms) only changes the header the runtime sees.
        timeout_s = self.function.function_timeout_s
        if inv.wait_response(max(0.0, inv.served_ns / 1e9 + timeout_s - time.time())):
            return
        with self._lock:
            if self._closed or inv.responded or self.api.generation != generation:
                return
            proc = self._proc
            self.timeouts.append(inv.request_id)
            self.api.fail_invocation(
                inv,
                "Sandbox.Timedout",
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {inv.request_id} Error: Task timed out "
                    f"after {timeout_s:.2f} seconds",
                },
            )
            if self.attempts:
                self.attempts[-1].reset_for_function_timeout = True
            self._needs_reset_init = True
            if proc is not None and proc.poll() is None and self.api.extensions:
                _signal(proc, signal.SIGTERM)
                external = any(e.external for e in self.api.extensions)
                _wait(proc, _SIGTERM_GRACE_EXTERNAL_S if external else _SIGTERM_GRACE_INTERNAL_S)
            self._killpg(signal.SIGKILL)
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=2)

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
            extensions = self.api.extensions
            proc = self._proc
            if proc is None or proc.poll() is not None:
                outcome = ShutdownOutcome(reason, "not-running")
            elif not extensions:
                outcome = ShutdownOutcome(reason, "no-extensions")
            elif not any(e.external for e in extensions):
                outcome = ShutdownOutcome(reason, "internal", sigterm_sent=True)
                _signal(proc, signal.SIGTERM)
                _wait(proc, _SIGTERM_GRACE_INTERNAL_S)
            else:
                outcome = ShutdownOutcome(reason, "external", sigterm_sent=True)
                _signal(proc, signal.SIGTERM)
                _wait(proc, _SIGTERM_GRACE_EXTERNAL_S)
                deadline_ms = int(time.time() * 1000 + _SHUTDOWN_TOTAL_EXTERNAL_S * 1000)
                self.api.send_shutdown(reason, deadline_ms)
                outcome.shutdown_event_sent = True
                end = t0 + _SHUTDOWN_TOTAL_EXTERNAL_S
                for ext in self._ext_procs:
                    _wait(ext.proc, max(0.0, end - time.monotonic()))
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


def _group_kwargs(pgid: int) -> dict[str, Any]:
    """Popen arguments putting the child in process group pgid (0: a new group it leads).

    process_group (3.11+) does it in C; preexec_fn is only a fallback, as it is not safe in a
    process with many threads (a fleet has hundreds).
    """
    if sys.version_info >= (3, 11):
        return {"process_group": pgid}

    def join() -> None:
        os.setpgid(0, pgid)

    return {"preexec_fn": join}


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=max(timeout, 0.0))
