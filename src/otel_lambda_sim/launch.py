"""How Lambda starts a sandbox's runtime: the bootstrap script, the environment built from
scratch, and process groups so nothing the sandbox starts outlives it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO, Any

from .cpu_share import CpuShare
from .function import FunctionConfig
from .layers import opt_path

__all__ = [
    "BOOTSTRAP_SH",
    "group_kwargs",
    "group_members",
    "lambda_environment",
    "log_stream_name",
    "prepare_runtime_dir",
    "send_signal",
    "start_extension",
    "start_runtime",
    "wait_for",
]

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


def lambda_environment(
    fn: FunctionConfig,
    *,
    python: str,
    api_address: str,
    runtime_dir: Path,
    tmpdir: Path,
    log_stream: str | None,
) -> dict[str, str]:
    """A sandbox's environment, built from scratch as Lambda does (the function's env wins)."""
    bin_dirs = [str(Path(python).parent)] + [str(d / "bin") for d in fn.layer_dirs]
    python_path = [str(fn.code_dir)] + [str(d / "python") for d in fn.layer_dirs]
    env = {
        "PATH": ":".join([*bin_dirs, "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "_HANDLER": fn.handler,
        "AWS_LAMBDA_RUNTIME_API": api_address,
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": fn.function_version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": fn.log_group_name,
        "AWS_LAMBDA_INITIALIZATION_TYPE": fn.initialization_type,
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "LAMBDA_TASK_ROOT": str(fn.code_dir),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "PYTHONPATH": ":".join(python_path),
        "TMPDIR": str(tmpdir),
    }
    if fn.execution_env:  # a container image on a non-AWS base image sets none
        env["AWS_EXECUTION_ENV"] = fn.execution_env
    if log_stream:
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = log_stream
    if fn.exec_wrapper:
        env["AWS_LAMBDA_EXEC_WRAPPER"] = fn.exec_wrapper
    if fn.extensions_dir is not None:
        # Lambda runs external extensions from /opt/extensions, where otel-lambda-init
        # looks for them; the simulator cannot write /opt, so it says where they are.
        env["OTEL_LAMBDA_INIT_EXTENSIONS_DIR"] = str(fn.extensions_dir)
    env.update(fn.env)
    if "AWS_LAMBDA_EXEC_WRAPPER" in env:  # /opt/... as Lambda's merged layers would show it
        env["AWS_LAMBDA_EXEC_WRAPPER"] = opt_path(env["AWS_LAMBDA_EXEC_WRAPPER"], fn.layer_dirs)
    if fn.managed_instances:
        # awslambdaric's multi-concurrent mode: one forked worker per slot, each its INIT.
        env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(fn.max_concurrency)
    else:
        env.pop("AWS_LAMBDA_MAX_CONCURRENCY", None)  # would switch awslambdaric to LMI
    return env


def group_kwargs(pgid: int) -> dict[str, Any]:
    """Popen arguments putting the child in process group pgid (0: a new group it leads).

    process_group (3.11+) does it in C; preexec_fn is only a fallback, as it is not safe in a
    process with many threads (a fleet has hundreds).
    """
    if sys.version_info >= (3, 11):
        return {"process_group": pgid}

    def join() -> None:
        os.setpgid(0, pgid)

    return {"preexec_fn": join}


def send_signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``: awslambdaric's LMI workers
    outlive their main process's exit unless they end themselves."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                data = stat.read()
            fields = data[data.rindex(b")") + 2 :].split()
        except (OSError, ValueError):
            continue  # gone meanwhile
        if fields[0] != b"Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def wait_for(proc: subprocess.Popen[bytes], timeout: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=max(timeout, 0.0))


def start_runtime(
    runtime_dir: Path,
    python: str,
    code_dir: Path,
    env: dict[str, str],
    log: IO[bytes],
    share: CpuShare | None = None,
) -> subprocess.Popen[bytes]:
    """The runtime process through the bootstrap script, leading its own process group (not a
    new session, so external extensions can join it): killpg then reaches all of it."""
    argv = ["/bin/sh", str(runtime_dir / "bootstrap"), python, str(runtime_dir / "bootstrap.py")]
    return subprocess.Popen(
        share.command(argv) if share is not None else argv,
        cwd=code_dir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        **group_kwargs(0),
    )


def start_extension(
    path: Path, env: dict[str, str], log: IO[bytes], pgid: int, share: CpuShare | None = None
) -> subprocess.Popen[bytes]:
    """An external extension, started from / in the runtime's process group (and CPU share)."""
    return subprocess.Popen(
        share.command([str(path)]) if share is not None else [str(path)],
        cwd="/",
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        **group_kwargs(pgid),
    )
