"""SnapStart: what a restored copy of the snapshot must renew before it reports anything.

The snapshot copies memory into every restored sandbox: the ``random`` state the SDK's id
generator draws from (restored copies would otherwise emit the same trace and span ids), and
exporters' pooled connections, which point into the snapshot's past.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from .lazy_exporter import LazySpanExporter


def reseed_ids() -> None:
    """Reseed ``random`` from ``os.urandom``: the SDK's trace and span ids come from it, and
    every restored copy of the snapshot starts with the same state."""
    random.seed()


def renew_exporters(exporters: Iterable[LazySpanExporter]) -> int:
    """Rebuild the exporters we made (their connections are the snapshot's): each builds a
    fresh real exporter on its next export. Returns how many were renewed."""
    renewed = 0
    for exporter in exporters:
        if exporter.renew():
            renewed += 1
    return renewed
