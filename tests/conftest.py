"""Suite-wide hooks: a summary line per real-component marker, so a CI log shows that the
`rie`, `otelcol` and `jaeger` tests ran (not skipped) and on which interpreter."""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from in_process import exporter, own_once_reports  # noqa: F401 - fixtures for in-process tests

from otel_lambda_sim.receiver import OtlpReceiver


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    """A real OTLP/HTTP receiver on loopback for one test, stopped after it."""
    with OtlpReceiver() as r:
        yield r


COMPONENT_MARKERS = ("rie", "otelcol", "jaeger", "lwa")
_outcomes: dict[str, Counter[str]] = {m: Counter() for m in COMPONENT_MARKERS}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    markers = [m for m in COMPONENT_MARKERS if item.get_closest_marker(m)]
    if not markers:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        result = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        for marker in markers:
            _outcomes[marker][result] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not any(_outcomes.values()):
        return
    python = f"{platform.python_implementation()} {platform.python_version()}"
    for marker, counts in _outcomes.items():
        if counts:
            detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            terminalreporter.write_line(f"real components [{marker}] on {python}: {detail}")
