"""Notices the moment something in this process imports ``opentelemetry.trace``.

The wrapper route can defer the OpenTelemetry SDK until after the first response only while
nothing needs a live span. Anything that will start one (the function's module, a library, a
lazy import inside the handler) must import ``opentelemetry.trace`` first: this finder runs
a callback right after that module has executed, before the importer gets it back, so a
provider (and the first invocation's live span) can be put in place in time.
"""

from __future__ import annotations

from .import_watch import ImportWatch

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Callable

WATCHED = "opentelemetry.trace"


class OpenTelemetryImportWatch(ImportWatch):
    """Calls ``on_loaded`` once ``opentelemetry.trace`` (or ``watched``) has executed."""

    def __init__(self, on_loaded: Callable[[], None], watched: str = WATCHED) -> None:
        super().__init__((watched,), on_loaded)
