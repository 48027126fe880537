"""The one place that hooks the Lambda runtime client (awslambdaric) and turns what it sees
into lifecycle events.

The runtime's own calls are the only place where INIT end, "response posted", "init error
reported" and a SnapStart restore can be observed from inside the process. Each method of
``LambdaRuntimeClient`` gets exactly one guarded wrapper; installing again (a test's new
owner) replaces it. If the client is absent or looks different, nothing changes and the
owner falls back.
"""

from __future__ import annotations

import os
import sys
import time

from .._core import events as ev
from .._core.events import Event, NextTrip
from .._core.report import report_once
from .import_watch import ImportWatch
from .process import RUNTIME_CLIENT_MODULES, runtime_client_loaded, thread_cpu_wait_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["HELPER_NEXT", "RUNTIME_CLIENT_MODULES", "RuntimeHooks", "runtime_client_loaded"]

_MARK = "__otel_lambda_init_hook__"
CLIENT_CLASSES = ("LambdaRuntimeClient", "LambdaMultiConcurrentRuntimeClient")
HELPER_NEXT = "_get_next"
"""What awslambdaric's helper thread calls for ``next`` (4.x; 3.0's calls the C client)."""


class RuntimeHooks:
    """Publishes the runtime client's lifecycle into ``publish``."""

    def __init__(
        self,
        publish: Callable[[Event], None],
        force_thread_polling: Callable[[], object] | None = None,
    ) -> None:
        self._publish = publish
        # awslambdaric waits for the next event on a helper thread (so a Python SIGTERM
        # handler can run) only when AWS_EXECUTION_ENV names a python3.12+ managed runtime.
        # A container image on a non-AWS base sets none: without this (``_compat``), SIGTERM
        # kills the process inside the blocking C call and nothing is exported at shutdown.
        self._force_thread_polling = force_thread_polling
        self.installed = False
        self.wrapped: set[str] = set()  # the client methods we see, by name
        self._first_event = True
        self._helper_sent: tuple[int, int | None] | None = None
        self._trip: NextTrip | None = None

    @property
    def sees_posting(self) -> bool:
        """Whether "response posted" will be published (after-response delivery runs on it)."""
        return "post_invocation_result" in self.wrapped

    # -- what each hooked method means -------------------------------------------------------
    def _before_next(self, _args: tuple[Any, ...], _result: Any = None) -> None:
        self._publish(Event(ev.NEXT_REQUESTED, time.time_ns()))

    def _before_helper_next(self, _args: tuple[Any, ...], _result: Any = None) -> None:
        if self._first_event:  # on awslambdaric's helper thread, as the request leaves
            wait = thread_cpu_wait_ns()
            self._helper_sent = (time.time_ns(), wait)

    def _after_helper_next(self, _args: tuple[Any, ...], _result: Any = None) -> None:
        sent = self._helper_sent
        if self._first_event and sent is not None:  # the event is back on the helper thread
            now, wait = time.time_ns(), thread_cpu_wait_ns()
            cpu = None if wait is None or sent[1] is None else max(0, wait - sent[1])
            self._trip = NextTrip(sent[0], now, cpu)

    def _after_next(self, _args: tuple[Any, ...], result: Any = None) -> None:
        # In the caller's time: the deadline travels as the runtime read it (text) and is
        # parsed after the response, where it bounds our export (``_delivery.deadline``).
        deadline = getattr(result, "deadline_time_in_ms", None)
        wait, trip = None, None
        if self._first_event:  # the idle gap's CPU wait, read with the hand-over's time
            self._first_event = False
            wait, trip = thread_cpu_wait_ns(), self._trip
        self._publish(
            Event(
                ev.INVOCATION_RECEIVED,
                time.time_ns(),
                deadline=deadline,
                cpu_wait_ns=wait,
                next_trip=trip,
            )
        )

    def _after_post(self, args: tuple[Any, ...], _result: Any = None) -> None:
        request_id = args[0] if args and isinstance(args[0], str) else None
        self._publish(Event(ev.RESPONSE_POSTED, time.time_ns(), request_id=request_id))

    def _before_init_error(self, args: tuple[Any, ...], _result: Any = None) -> None:
        error = args[0] if args and isinstance(args[0], dict) else {}
        self._publish(Event(ev.INIT_ERROR, time.time_ns(), error=error))

    def _before_restore(self, _args: tuple[Any, ...], _result: Any = None) -> None:
        self._publish(Event(ev.BEFORE_SNAPSHOT, time.time_ns()))

    def _after_restore(self, _args: tuple[Any, ...], _result: Any = None) -> None:
        self._publish(Event(ev.RESTORED, time.time_ns()))

    def _table(self) -> dict[str, tuple[Any, Any]]:
        return {
            "wait_next_invocation": (self._before_next, self._after_next),
            # python3.12+ and containers: the helper thread that makes the call (where known)
            HELPER_NEXT: (self._before_helper_next, self._after_helper_next),
            "post_invocation_result": (None, self._after_post),
            "post_invocation_error": (None, self._after_post),
            "post_init_error": (self._before_init_error, None),
            "restore_next": (self._before_restore, self._after_restore),
        }

    # -- installing ------------------------------------------------------------------------
    def install(self) -> bool:
        """Wrap the runtime client's methods now. True when the client was found."""
        found = False
        for module_name in RUNTIME_CLIENT_MODULES:
            module = sys.modules.get(module_name)
            if getattr(module, "LambdaRuntimeClient", None) is None:
                continue
            found = True
            done: set[tuple[int, str]] = set()
            # Lambda Managed Instances' workers use LambdaMultiConcurrentRuntimeClient: both
            # clients inherit most methods from one base, wrapped where it is defined.
            for class_name in CLIENT_CLASSES:
                client_cls = getattr(module, class_name, None)
                if client_cls is None:
                    continue
                for method, (before, after) in self._table().items():
                    owner = next((k for k in client_cls.__mro__ if method in vars(k)), None)
                    if owner is None or (id(owner), method) in done:
                        continue
                    done.add((id(owner), method))
                    original = vars(owner)[method]
                    original = getattr(original, _MARK, original)  # one wrapper per method
                    setattr(owner, method, _wrap(original, method, before, after))
                    self.wrapped.add(method)
        if found and self._force_thread_polling and not os.environ.get("AWS_EXECUTION_ENV"):
            self._force_thread_polling()  # a managed runtime: awslambdaric's own choice stands
        self.installed = self.installed or found
        return found

    def install_when_loaded(self) -> bool:
        """Install now if the runtime client is loaded, else as soon as it is imported (a
        meta-path finder that only answers for its module, removed after use). True when
        installed now."""
        if self.install():
            return True
        if not any(isinstance(f, _RuntimeClientWatch) for f in sys.meta_path):
            _RuntimeClientWatch(RUNTIME_CLIENT_MODULES, self._client_loaded).start()
        return False

    def _client_loaded(self) -> None:
        try:
            self.install()
        except Exception:
            report_once("runtime-hooks", "could not hook the runtime client")


def _wrap(
    original: Callable[..., Any],
    method: str,
    before: Callable[[tuple[Any, ...], Any], None] | None,
    after: Callable[[tuple[Any, ...], Any], None] | None,
) -> Callable[..., Any]:
    def hooked(self: Any, *args: Any, **kwargs: Any) -> Any:
        if before is not None:
            try:
                before(args, None)
            except Exception:
                report_once(f"hook-{method}", f"the hook before {method} failed")
        result = original(self, *args, **kwargs)
        if after is not None:
            try:
                after(args, result)
            except Exception:
                report_once(f"hook-{method}", f"the hook after {method} failed")
        return result

    hooked.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(hooked, _MARK, original)
    hooked.__name__ = getattr(original, "__name__", method)
    return hooked


class _RuntimeClientWatch(ImportWatch):
    """Hooks the runtime client right after its module executes (its own type: one at most)."""
