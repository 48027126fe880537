"""The exec wrapper's instrumentors (``OTEL_LAMBDA_INIT_INSTRUMENTORS``), in this process.

Each instrumentor is imported and applied the moment its library finishes importing (a library
the function never imports costs nothing), with its own dependency check (a manual
``instrument()``'s); named instrumentors are found without an entry-point scan.
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
    from collections.abc import Callable, Mapping, Sequence
    from importlib.metadata import Distribution, EntryPoint
    from typing import Any

    Timed = Callable[[Callable[[], None]], None]
    """Runs a load and accounts for it as our setup (the owner's ``timed_setup``)."""

GROUP = "opentelemetry_instrumentor"
SKIPPED = ("aws-lambda", "otel_lambda_init")
"""The wrapper makes the invocation span itself: the upstream aws-lambda instrumentor would
make a second one, and our own entry point is for ``opentelemetry-instrument``."""
DISTRIBUTION_PREFIX = "opentelemetry-instrumentation-"


class Instrumentor:
    """One entry point, loaded once: when a library it instruments has been imported."""

    __slots__ = ("entry_point", "watches", "loaded", "timed")

    def __init__(self, entry_point: EntryPoint, timed: Timed | None = None) -> None:
        self.entry_point = entry_point
        self.watches: list[ImportWatch] = []
        self.loaded = False
        self.timed = timed

    @property
    def name(self) -> str:
        return self.entry_point.name

    def load(self) -> None:
        """Instrument after the instrumentor's own check of the installed library's version;
        a refused version or a failure is said once and the library runs uninstrumented."""
        if self.loaded:
            return
        self.loaded = True
        for watch in self.watches:
            watch.stop()
        if self.timed is None:
            self._load()
            return
        try:
            self.timed(self._load)
        except Exception:
            report_once("instrumentor-timing", "could not time an instrumentor's loading")

    def _load(self) -> None:
        try:
            try:
                from opentelemetry.instrumentation.dependencies import DependencyConflictError
            except ImportError:  # before 0.53b0 (which added it with raise_exception_on_conflict)
                self._load_checked_by_distribution()
                return
            try:
                # The instrumentor's own check (its instrumentation_dependencies(), what a
                # manual instrument() runs): no second parse of its distribution's metadata.
                self.entry_point.load()().instrument(raise_exception_on_conflict=True)
            except DependencyConflictError as error:
                self._said(error.conflict)
        except Exception:
            report_once(
                f"instrumentor-{self.name}",
                f"could not load the {self.name!r} instrumentor; its library runs uninstrumented",
            )

    def _load_checked_by_distribution(self) -> None:
        checked, conflict = dist_dependency_conflict(self.entry_point.dist)
        if conflict is not None:
            self._said(conflict)
            return
        # Unchecked (an older opentelemetry-instrumentation): the instrumentor checks itself.
        self.entry_point.load()().instrument(skip_dep_check=checked)

    def _said(self, conflict: Any) -> None:
        if conflict.found or conflict.found_any:  # installed, at a version it refuses
            report_once(f"instrumentor-{self.name}", str(conflict), exc_info=False)
        else:
            logger.debug("otel-lambda-init: %s not loaded: %s", self.name, conflict)


def requirements(dist: Distribution) -> list[str]:
    """``Requires-Dist`` of a distribution: read from its metadata's header lines, not
    through ``dist.requires``'s full e-mail parse (a few hundred us each on a cold start)."""
    text = dist.read_text("METADATA")
    if text is None:  # an egg-info or an unusual layout: the general way
        return list(dist.requires or ())
    head = text.split("\n\n", 1)[0]
    return [
        line[len("Requires-Dist:") :].strip()
        for line in head.splitlines()
        if line.startswith("Requires-Dist:")
    ]


def instrumented_libraries(dist: Distribution | None) -> list[str]:
    """Distribution names of the libraries an instrumentor says it instruments (its
    ``instruments`` and ``instruments-any`` extras)."""
    names: list[str] = []
    for requirement in requirements(dist) if dist is not None else ():
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


def install(
    names: Sequence[str], environ: Mapping[str, str] | None = None, timed: Timed | None = None
) -> list[Instrumentor]:
    """Load each instrumentor when its library is first imported, or now when the library is
    imported already or installed under a module name its distribution does not tell; each
    load runs through ``timed`` (our setup, not the library's import)."""
    from importlib.machinery import PathFinder

    env = os.environ if environ is None else environ
    instrumentors = [Instrumentor(ep, timed) for ep in find_entry_points(names, env)]
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
