"""Starting AWS's Lambda Runtime Interface Emulator (aws-lambda-rie) for a test: the small
subset of tests/components.py (branch issue-12) these tests need, to be folded into it.

The binary comes from RIE_BIN; when unset and Go is on PATH it is built once with
``go install`` into .components/bin; without either the test is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RIE_MODULE = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest"
# What the managed python3.12 runtime sets: awslambdaric's helper-thread mode (SIGTERM reaches
# Python) keys off it.
EXECUTION_ENV = "AWS_Lambda_python3.12"


def rie_bin() -> str:
    value = os.environ.get("RIE_BIN")
    if value:
        assert os.access(value, os.X_OK), f"RIE_BIN={value} is not an executable"
        return value
    built = ROOT / ".components" / "bin" / "aws-lambda-rie"
    if built.exists():
        return str(built)
    if shutil.which("go") is None:
        pytest.skip("RIE_BIN is unset and no Go toolchain is on PATH to build aws-lambda-rie")
    env = {**os.environ, "GOBIN": str(built.parent)}
    subprocess.run(["go", "install", RIE_MODULE], env=env, check=True, timeout=900)
    return str(built)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RieAnswer:
    status: int
    payload: Any


class Rie:
    """aws-lambda-rie running ``python -m awslambdaric HANDLER`` (INIT at the first invoke)."""

    def __init__(self, handler: str, code_dir: Path, env: dict[str, str], log: Path) -> None:
        self.port, self.api_port = free_port(), free_port()
        self.log_path = log
        self._log = log.open("wb")
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        full_env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
        full_env.update(env)
        args = [
            rie_bin(),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{self.api_port}",
            sys.executable,
            "-m",
            "awslambdaric",
            handler,
        ]
        self.proc = subprocess.Popen(
            args,
            cwd=code_dir,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not self._listening():
            assert self.proc.poll() is None, f"aws-lambda-rie exited:\n{self.logs()}"
            assert time.monotonic() < deadline, "aws-lambda-rie did not listen within 20 s"
            time.sleep(0.05)

    def _listening(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def invoke(self, event: Any, timeout: float = 60) -> RieAnswer:
        url = f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations"
        request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        try:
            return RieAnswer(status, json.loads(raw) if raw else None)
        except ValueError:
            return RieAnswer(status, raw.decode(errors="replace"))

    def logs(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        self._log.close()


@contextmanager
def running_rie(handler: str, code_dir: Path, env: dict[str, str], log: Path) -> Iterator[Rie]:
    rie = Rie(handler, code_dir, env, log)
    try:
        yield rie
    finally:
        rie.stop()
