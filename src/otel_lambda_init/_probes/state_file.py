"""The sandbox-local state file: one small JSON history per sandbox in its temporary
directory (``/tmp`` in Lambda), read at INIT start and rewritten at each transition.

A hint, never trusted: validated field by field (``_core/history.py``), size-capped, never
following a link, ignored with one log line when anything is off. INIT transitions rewrite
the file (write then rename); the invocation counter, a space-padded number at the start of
the JSON, is replaced in place by one small ``pwrite``. See docs/delivery.md,
"Sandbox-local state".
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
_COUNTER_PREFIX = b'{"invocations":'
_COUNTER_WIDTH = 20
"""Wide enough for any int64 (19 digits)."""


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
        # The file we last wrote, kept open for the in-place counter (this process only).
        self._fd: int | None = None
        self._unwritten = False  # invocations counted since the counter was last written

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

    def count_invocation(self, write: bool = True) -> None:
        """One more invocation; ``write=False`` keeps it in memory until the next write (an
        export cadence writes the counter with its exports and at SIGTERM)."""
        history.count_invocation(self.data)
        self._unwritten = not write
        if write:
            self._write_counter()

    def write_pending(self) -> None:
        """Write the counter if invocations were counted without writing (at SIGTERM)."""
        if self._unwritten:
            self._unwritten = False
            self._write_counter()

    def _write_counter(self) -> None:
        fd = self._fd
        if fd is not None and self.pid == os.getpid():
            counter = b"%*d" % (_COUNTER_WIDTH, self.data["invocations"])
            try:
                os.pwrite(fd, counter, len(_COUNTER_PREFIX))
                return
            except OSError:
                pass  # rewritten whole below, which reports a failure once
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
        tmp = f"{self.path}.{self.pid}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        self._close()
        try:
            try:  # noqa: SIM105 - contextlib is not worth importing on the INIT path
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            fd = os.open(tmp, flags, 0o600)
            try:
                os.write(fd, _encoded(self.data))
                os.replace(tmp, self.path)
            except BaseException:
                os.close(fd)
                raise
            # Still the file at ``path`` (a rename keeps the inode): the counter's target.
            self._fd = fd
        except OSError:
            report_once("local-state", f"could not write {self.path}", exc_info=False)

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self.pid == os.getpid():
            try:  # noqa: SIM105
                os.close(fd)
            except OSError:
                pass


def _encoded(data: dict[str, Any]) -> bytes:
    """The history as JSON whose first member is the counter, padded to a fixed width."""
    import json

    rest = {k: value for k, value in data.items() if k != "invocations"}
    body = json.dumps(rest, separators=(",", ":")).encode()
    counter = b"%*d" % (_COUNTER_WIDTH, int(data.get("invocations", 0)))
    return _COUNTER_PREFIX + counter + (b"," + body[1:] if len(body) > 2 else b"}")
