"""The exec wrapper's instrumentors (``OTEL_LAMBDA_INIT_INSTRUMENTORS``), in this process.

Each instrumentor is imported and applied the moment its library finishes importing (a library
the function never imports costs nothing), with the dependency check
``opentelemetry-instrument`` runs; named instrumentors are found without an entry-point scan.
See docs/performance.md.
"""

from __future__ import annotations

import os
import sys

from .._compat import dist_dependency_conflict
from .._core.report import logger, report_once
from .._probes.import_watch import ImportWatch

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from importlib.metadata import Distribution, EntryPoint

GROUP = "opentelemetry_instrumentor"
SKIPPED = ("aws-lambda", "otel_lambda_init")
"""The wrapper makes the invocation span itself: the upstream aws-lambda instrumentor would
make a second one, and our own entry point is for ``opentelemetry-instrument``."""
DISTRIBUTION_PREFIX = "opentelemetry-instrumentation-"


class Instrumentor:
    """One entry point, loaded once: when a library it instruments has been imported."""

    __slots__ = ("entry_point", "watches", "loaded")

    def __init__(self, entry_point: EntryPoint) -> None:
        self.entry_point = entry_point
        self.watches: list[ImportWatch] = []
        self.loaded = False

    @property
    def name(self) -> str:
        return self.entry_point.name

    def load(self) -> None:
        """Check the installed library's version as ``opentelemetry-instrument`` does, then
        instrument; a failure is said once and the library runs uninstrumented."""
        if self.loaded:
            return
        self.loaded = True
        for watch in self.watches:
            watch.stop()
        try:
            checked, conflict = dist_dependency_conflict(self.entry_point.dist)
            if conflict is not None:
                if conflict.found or conflict.found_any:  # installed, at a version it refuses
                    report_once(f"instrumentor-{self.name}", str(conflict), exc_info=False)
                else:
                    logger.debug("otel-lambda-init: %s not loaded: %s", self.name, conflict)
                return
            # Unchecked (an older opentelemetry-instrumentation): the instrumentor checks itself.
            self.entry_point.load()().instrument(skip_dep_check=checked)
        except Exception:
            report_once(
                f"instrumentor-{self.name}",
                f"could not load the {self.name!r} instrumentor; its library runs uninstrumented",
            )


def instrumented_libraries(dist: Distribution | None) -> list[str]:
    """Distribution names of the libraries an instrumentor says it instruments (its
    ``instruments`` and ``instruments-any`` extras)."""
    names: list[str] = []
    for requirement in (dist.requires if dist is not None else None) or ():
        spec, _, marker = requirement.partition(";")
        if "instruments" not in marker:
            continue
        name = spec.strip()
        for stop in " <>=!~[(":
            name = name.split(stop, 1)[0]
        if name:
            names.append(name)
    return names


def module_name(distribution_name: str) -> str:
    """The top-level module a library's distribution is usually imported as."""
    return distribution_name.lower().replace("-", "_").replace(".", "_")


def _installed(distribution_name: str) -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution(distribution_name)
    except PackageNotFoundError:
        return False
    return True


def find_entry_points(names: Sequence[str], environ: Mapping[str, str]) -> list[EntryPoint]:
    """``("all",)``: every installed instrumentor (one scan); else the named ones, each looked
    up in its own distribution, with one scan only for names found nowhere else."""
    from importlib.metadata import PackageNotFoundError, distribution, entry_points

    if tuple(names) == ("all",):
        disabled = {
            n.strip() for n in environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")
        }
        if "*" in disabled:
            return []
        return [ep for ep in entry_points(group=GROUP) if ep.name not in disabled | set(SKIPPED)]
    found: list[EntryPoint] = []
    missing: list[str] = []
    for name in names:
        if name in SKIPPED:
            continue
        try:
            dist = distribution(DISTRIBUTION_PREFIX + name)
            named = [ep for ep in dist.entry_points if ep.group == GROUP and ep.name == name]
        except PackageNotFoundError:
            named = []
        if named:
            found.extend(named)
        else:
            missing.append(name)
    if missing:  # an instrumentor not named after its distribution
        scanned = {ep.name: ep for ep in entry_points(group=GROUP)}
        for name in missing:
            if name in scanned:
                found.append(scanned[name])
            else:
                report_once(
                    f"instrumentor-{name}",
                    f"OTEL_LAMBDA_INIT_INSTRUMENTORS names {name!r}, which is not installed",
                    exc_info=False,
                )
    return found


def install(names: Sequence[str], environ: Mapping[str, str] | None = None) -> list[Instrumentor]:
    """Load each instrumentor when its library is first imported, or now when the library is
    imported already or installed under a module name its distribution does not tell."""
    from importlib.machinery import PathFinder

    env = os.environ if environ is None else environ
    instrumentors = [Instrumentor(ep) for ep in find_entry_points(names, env)]
    now: list[Instrumentor] = []
    for instrumentor in instrumentors:
        libraries = instrumented_libraries(instrumentor.entry_point.dist)
        modules = [
            module
            for module in map(module_name, libraries)
            if module in sys.modules or PathFinder.find_spec(module) is not None
        ]
        if any(m in sys.modules for m in modules) or not libraries:
            now.append(instrumentor)
        elif modules:
            instrumentor.watches.extend(ImportWatch((m,), instrumentor.load) for m in modules)
        elif any(_installed(library) for library in libraries):
            now.append(instrumentor)
        else:
            logger.debug("otel-lambda-init: %s: its library is not installed", instrumentor.name)
    for instrumentor in instrumentors:  # after every PathFinder lookup: a watch answers one
        for watch in instrumentor.watches:
            watch.start()
    for instrumentor in now:
        instrumentor.load()
    return instrumentors
