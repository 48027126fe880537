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
) -> classify.InitVerdict:
    """The verdict for an INIT whose first invocation starts at ``first_invocation_start_ns``
    (INIT not seen ending: it ended then)."""
    end_ns = init.end_ns if init.end_ns is not None else first_invocation_start_ns
    timeline = classify.InitTimeline(
        init.start_ns,
        end_ns,
        init.phase,
        init.ready_ns,
        init.received_ns,
        init.platform_end_ns,
    )
    present = _external_extensions(extensions_present)
    return classify.classify_first_invocation(
        timeline,
        first_invocation_start_ns,
        env.initialization_type,
        config.proactive_threshold_ms,
        classify.idle_gap_threshold_ms(
            config.idle_gap_ms,
            classify.DEFAULT_IDLE_GAP_WITH_EXTENSIONS_MS,
            present and init.platform_end_ns is None,
        ),
        init.request_received_ns,
        config.event_time_tolerance_ms,
        present,
    )


def _external_extensions(probe: Callable[[], bool] | None) -> bool:
    if probe is None:
        return False
    try:
        return probe()
    except Exception:
        report_once("extensions-probe", "could not tell whether extensions are present")
        return False
