"""Lambda's CPU share for a memory size, given to a sandbox's processes where the host allows.

Lambda allocates CPU in proportion to memory: 1,769 MB is one vCPU, so a 128 MB function gets
about 7 % of one (AWS Lambda developer guide, "Configuring Lambda function memory"). What the
package does inside a fixed wall-clock budget (the 500 ms SIGTERM grace) only shows its real
margin under that share. The simulator sets it with a cgroup CPU quota (v1 ``cpu`` controller
or v2 ``cpu.max``), which needs root; elsewhere the sandbox runs unthrottled and says so.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

MB_PER_VCPU = 1769
PERIOD_US = 100_000
_V1 = Path("/sys/fs/cgroup/cpu")
_V2 = Path("/sys/fs/cgroup")
_counter = itertools.count()


def share_of(memory_mb: int) -> float:
    """vCPUs Lambda gives ``memory_mb`` (up to six, at 10,240 MB)."""
    return min(max(memory_mb, 1) / MB_PER_VCPU, 6.0)


class CpuShare:
    """One sandbox's cgroup; processes join it through :meth:`command` before they exec."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.path: Path | None = None
        name = f"otel-lambda-sim-{os.getpid()}-{next(_counter)}"
        quota = max(int(PERIOD_US * share_of(memory_mb)), 1000)
        for parent, limits in (
            (_V1, {"cpu.cfs_period_us": str(PERIOD_US), "cpu.cfs_quota_us": str(quota)}),
            (_V2, {"cpu.max": f"{quota} {PERIOD_US}"}),
        ):
            if self._make(parent / name, limits):
                self.path = parent / name
                return

    @staticmethod
    def _make(path: Path, limits: dict[str, str]) -> bool:
        try:
            path.mkdir()
        except OSError:
            return False
        try:
            for file, value in limits.items():
                (path / file).write_text(value)
            return (path / "cgroup.procs").exists()
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return False

    @property
    def active(self) -> bool:
        return self.path is not None

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the share: the shell joins the cgroup, then execs it."""
        if self.path is None:
            return argv
        join = 'echo $$ > "$1" || echo "cpu share: could not join $1" >&2; shift; exec "$@"'
        return ["/bin/sh", "-c", join, "join-cpu-share", str(self.path / "cgroup.procs"), *argv]

    def close(self) -> None:
        """Remove the cgroup once its processes are gone (a busy one is left to the host)."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()
            self.path = None
