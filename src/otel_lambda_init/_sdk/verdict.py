"""The decision table applied to this sandbox: the timeline, environment and configuration
turned into ``_core.classify``'s inputs for the first invocation."""

from __future__ import annotations

from collections.abc import Callable

from .._core import classify
from .._core.config import Config
from .._core.environment import SandboxEnvironment
from .._core.report import report_once
from .._core.timeline import InitRecord


def first_invocation_verdict(
    config: Config,
    env: SandboxEnvironment,
    init: InitRecord,
    first_invocation_start_ns: int,
    extensions_present: Callable[[], bool] | None,
    first_attempt_ns: int | None = None,
) -> classify.InitVerdict:
    """The verdict for an INIT whose first invocation starts at ``first_invocation_start_ns``
    (INIT not seen ending: it ended then); ``first_attempt_ns`` when INIT re-ran after the cap."""
    present = _external_extensions(extensions_present)
    return classify.classify_record(
        init, first_invocation_start_ns, env.initialization_type, config, present, first_attempt_ns
    )


def _external_extensions(probe: Callable[[], bool] | None) -> bool:
    if probe is None:
        return False
    try:
        return probe()
    except Exception:
        report_once("extensions-probe", "could not tell whether extensions are present")
        return False
