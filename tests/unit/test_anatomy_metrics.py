"""INIT metrics: recorded only with a MeterProvider, semantic-convention names and attributes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_lambda_init._core import classify
from otel_lambda_init._sdk import metrics

VERDICT = classify.InitVerdict(
    coldstart=False,
    proactive=True,
    gap_ms=360_000.0,
    duration_ms=812.5,
    initialization_type="on-demand",
    phase="init",
)


@pytest.fixture
def recorder() -> Iterator[metrics.InitMetrics]:
    yield metrics.InitMetrics()


def test_nothing_is_recorded_without_a_meter_provider(recorder: metrics.InitMetrics) -> None:
    assert metrics.configured_meter_provider() is None  # the API's proxy is not a provider
    assert recorder.record(VERDICT) is False


def test_init_is_counted_with_duration_and_gap(
    monkeypatch: pytest.MonkeyPatch, recorder: metrics.InitMetrics
) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    monkeypatch.setattr(metrics, "configured_meter_provider", lambda: provider)
    assert recorder.record(VERDICT) is True
    data = reader.get_metrics_data()
    found = {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    assert set(found) == {"faas.coldstarts", "faas.init_duration", "lambda_init.gap"}
    (count,) = found["faas.coldstarts"].data.data_points
    assert count.value == 1
    assert dict(count.attributes) == {
        "faas.coldstart": False,
        "lambda_init.proactive_initialization": True,
        "lambda_init.initialization_type": "on-demand",
    }
    (duration,) = found["faas.init_duration"].data.data_points
    assert duration.sum == pytest.approx(0.8125)
    assert found["faas.init_duration"].unit == "s"
    (gap,) = found["lambda_init.gap"].data.data_points
    assert gap.sum == pytest.approx(360.0)
    provider.shutdown()
