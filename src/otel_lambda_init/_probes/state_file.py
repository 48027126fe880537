"""The sandbox-local state file: one small JSON history per sandbox in its temporary
directory (``/tmp`` in Lambda), read at INIT start and rewritten at each transition.

It is a hint, never trusted: validated field by field (``_core/history.py``), size-capped,
never following a link, and ignored with one log line when anything is off.
"""

from __future__ import annotations

import os

from .._core import history
from .._core.report import report_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_BYTES = 16_384
"""A state file larger than this was not written by us."""


def state_dir(environ: Any = None) -> str:
    """The sandbox's temporary directory, as ``tempfile.gettempdir()`` finds it (without
    importing ``tempfile`` on the INIT path)."""
    env = os.environ if environ is None else environ
    for name in ("TMPDIR", "TEMP", "TMP"):
        value = env.get(name)
        if value and os.path.isdir(value):
            return str(value)
    return "/tmp"


def state_path(key: str, directory: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in key)[-120:]
    return os.path.join(directory, f"otel-lambda-init-{safe}.json")


class StateFile:
    """The history of one sandbox, kept in one file."""

    def __init__(self, path: str, pid: int) -> None:
        self.path = path
        self.pid = pid
        self.data: dict[str, Any] = history.empty()

    def begin(self, start_ns: int) -> history.Previous:
        """INIT starts in this process: read what came before, then record our attempt."""
        data = self._read()
        if data is not None:
            self.data = data
        previous = history.begin(self.data, self.pid, start_ns)
        self._write()
        return previous

    def set_status(self, status: str) -> None:
        if history.set_status(self.data, status):
            self._write()

    def init_done(self) -> None:
        self.set_status(history.DONE)

    def init_failed(self) -> None:
        self.set_status(history.ERROR)

    def count_invocation(self) -> None:
        history.count_invocation(self.data)
        self._write()

    def _read(self) -> dict[str, Any] | None:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            return None
        except OSError:
            report_once("local-state-read", f"ignoring {self.path}: cannot open it", exc_info=False)
            return None
        import json  # only inside a sandbox with a state file: not on every import

        try:
            with os.fdopen(fd, "rb") as f:
                raw = f.read(MAX_BYTES + 1)
            data = history.validated(json.loads(raw)) if len(raw) <= MAX_BYTES else None
        except (OSError, ValueError):
            data = None
        if data is None:
            report_once("local-state-read", f"ignoring {self.path}: not our state", exc_info=False)
        return data

    def _write(self) -> None:
        # Write then rename: a process killed mid-write (the INIT cap) leaves the old state.
        # O_EXCL|O_NOFOLLOW: never write through a link someone planted at the temporary name
        # (unlinking a link removes the link, never its target).
        import json

        tmp = f"{self.path}.{self.pid}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            try:  # noqa: SIM105 - contextlib is not worth importing on the INIT path
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            fd = os.open(tmp, flags, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.data, f, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            report_once("local-state", f"could not write {self.path}", exc_info=False)
