"""Telling the runtime's process from one the function forked (issue 25, docs/safety.md)."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable


def _weakly(callback: Callable[[], None]) -> Callable[[], None]:
    """``callback`` (a bound method) held weakly; whatever it raises, the fork goes on."""
    method = weakref.WeakMethod(callback)

    def call() -> None:
        bound = method()
        if bound is not None:
            with contextlib.suppress(Exception):
                bound()

    return call


def on_fork(callback: Callable[[], None]) -> None:
    """Call ``callback`` (a bound method, held weakly) in every child forked from here."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_weakly(callback))


def around_fork(
    before: Callable[[], None],
    after_in_parent: Callable[[], None],
    after_in_child: Callable[[], None],
) -> None:
    """Call these bound methods (held weakly) around every fork from here, as the stdlib's
    own locks do: ``before`` in the forking thread, then one of the two ``after``."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=_weakly(before),
            after_in_parent=_weakly(after_in_parent),
            after_in_child=_weakly(after_in_child),
        )
