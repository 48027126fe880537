"""Every simulated sandbox's Runtime API runs in this one interpreter, where Lambda gives each
sandbox its own: while sandboxes are live, keep what one thread does from delaying the others'
hand-overs."""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator

__all__ = ["prompt_hand_overs"]


@contextlib.contextmanager
def prompt_hand_overs() -> Iterator[None]:
    """A short GIL switch interval, and no cyclic garbage collection (a full pass took 43.5 ms
    in an agreement run, stalling every API at once); what is left is collected after."""
    switch, collecting = sys.getswitchinterval(), gc.isenabled()
    sys.setswitchinterval(min(switch, 0.0005))
    gc.disable()
    try:
        yield
    finally:
        sys.setswitchinterval(switch)
        if collecting:
            gc.enable()
