"""Telling the runtime's process from one the function forked (issue 25, docs/safety.md)."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable


def on_fork(callback: Callable[[], None]) -> None:
    """Call ``callback`` (a bound method, held weakly) in every child forked from here."""
    if not hasattr(os, "register_at_fork"):
        return
    method = weakref.WeakMethod(callback)

    def in_child() -> None:
        bound = method()
        if bound is not None:
            with contextlib.suppress(Exception):  # the child starts whatever happens here
                bound()

    os.register_at_fork(after_in_child=in_child)
