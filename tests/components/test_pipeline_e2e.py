"""The whole pipeline, real parts only after the sandboxes:

    simulator fleet (a cold start, proactive INITs)
      -> collector running lambda-extension.yaml      (as the extension beside each function)
      -> collector running gateway.yaml               (tail_sampling, spanmetrics)
      -> Jaeger v2 (traces, read back over its query API) and an OTLP metrics sink

The extension config runs without `decouple` (the Go module proxy does not serve it; see
collector/README.md); the gateway config runs as shipped. Warm traces are sampled at 0 %
(WARM_TRACE_SAMPLING_PERCENTAGE, a documented setting), so every trace Jaeger holds was kept
by the init policy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from components import (
    COLLECTOR,
    jaeger_tags,
    running_collector,
    running_jaeger,
    strip_lambda_only_components,
    wait_until,
)
from google.protobuf import json_format
from lambda_harness import OtlpReceiver, run_demo_fleet

pytestmark = [pytest.mark.otelcol, pytest.mark.jaeger, pytest.mark.timeout(240)]

SERVICE = "demo-fn"
INIT = "init demo-fn"


def extension_config(tmp_path: Path) -> Path:
    config, removed = strip_lambda_only_components(
        yaml.safe_load((COLLECTOR / "lambda-extension.yaml").read_text())
    )
    assert removed == ["decouple"]
    path = tmp_path / "lambda-extension.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def datapoints(sink: OtlpReceiver, metric: str) -> list[dict[str, Any]]:
    """Data points of one metric the sink received, attributes flattened."""
    points = []
    for request in sink.metrics_requests():
        body = json_format.MessageToDict(request)
        for rm in body.get("resourceMetrics", []):
            series_of = str(sorted(str(a) for a in rm.get("resource", {}).get("attributes", [])))
            for sm in rm.get("scopeMetrics", []):
                for m in sm.get("metrics", []):
                    if m["name"] != metric:
                        continue
                    data = m.get("sum") or m.get("histogram") or {}
                    for point in data.get("dataPoints", []):
                        attrs = {
                            a["key"]: next(iter(a["value"].values()))
                            for a in point.get("attributes", [])
                        }
                        temporality = data.get("aggregationTemporality", "")
                        key = series_of + str(sorted(attrs.items()))
                        points.append(
                            {**point, "attrs": attrs, "temporality": temporality, "series": key}
                        )
    return points


def count(sink: OtlpReceiver, **match: Any) -> int:
    """Spans counted by traces.span.metrics.calls whose attributes match: the newest value of
    each (cumulative) series, summed over series (one per sandbox resource). A new series is
    reported at 0 first and counted from the next flush (spanmetrics, contrib PR 39052)."""
    newest: dict[str, int] = {}
    for point in datapoints(sink, "traces.span.metrics.calls"):
        assert point["temporality"] == "AGGREGATION_TEMPORALITY_CUMULATIVE"
        if all(point["attrs"].get(k) == v for k, v in match.items()):
            newest[point["series"]] = max(newest.get(point["series"], 0), int(point["asInt"]))
    return sum(newest.values())


def jaeger_spans(traces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**s, "tags_": jaeger_tags(s), "trace": t["traceID"]} for t in traces for s in t["spans"]
    ]


def test_fleet_through_extension_and_gateway_collectors_to_jaeger(tmp_path: Path) -> None:
    with (
        OtlpReceiver() as metrics_sink,
        running_jaeger(tmp_path) as jaeger,
        running_collector(
            [COLLECTOR / "gateway.yaml"],
            env={
                "BACKEND_OTLP_ENDPOINT": jaeger.otlp_endpoint,
                "METRICS_OTLP_ENDPOINT": metrics_sink.endpoint,
                "WARM_TRACE_SAMPLING_PERCENTAGE": "0",
            },
            log_path=tmp_path / "gateway.log",
        ) as gateway,
        running_collector(
            [extension_config(tmp_path)],
            env={"GATEWAY_OTLP_ENDPOINT": gateway.endpoint},
            log_path=tmp_path / "extension.log",
        ) as extension,
    ):
        # Sandbox 1 is a cold start (request A waited for it). B and C arrive while 1 is busy:
        # sandboxes 2 and 3 start for them, but 1 frees first and serves both (eager
        # assignment); 2 and 3 first serve D and E, seconds after their INIT: proactive. An HTTP
        # API trigger stamps each arrival, so the verdicts rest on it (event-time), not on a
        # busy host's hand-over; D and E come late enough for 2 and 3 to be ready on one.
        truth = run_demo_fleet(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": extension.endpoint,
                "OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS": "1500",
            },
            name="pipeline",
            handler="app.handler",
            init_ms=700,
            handler_ms=150,
            concurrency=5,
            arrivals=[0.0, 0.75, 0.8, 6.0, 6.05],
            trigger="http-api",
            execution_env=f"AWS_Lambda_python3.{sys.version_info.minor}",
        ).truth_summary()
        assert truth["waited_for"] == 1 and truth["not_waited_for"] == 2

        # tail_sampling decides 10 s after a trace's first span; then batch and Jaeger's batch.
        def three_init_traces() -> list[dict[str, Any]] | None:
            traces = jaeger.traces(SERVICE)
            inits = [s for s in jaeger_spans(traces) if s["operationName"] == INIT]
            return traces if len(inits) == 3 else None

        traces = wait_until(three_init_traces, 60, "three init spans in Jaeger")
        # spanmetrics flushes every 15 s; a new series counts from its second flush.
        cold_init = {"span.name": INIT, "faas.coldstart": True}
        proactive_init = {"span.name": INIT, "lambda_init.proactive_initialization": True}
        cold_invocation = {"span.name": SERVICE, "faas.coldstart": True}
        wait_until(
            lambda: (
                count(metrics_sink, **cold_init) == 1
                and count(metrics_sink, **proactive_init) == 2
                and count(metrics_sink, **cold_invocation) == 1
            ),
            75,
            "the cold-start and proactive spanmetrics series at the metrics sink",
        )
        traces = jaeger.traces(SERVICE)
        gateway_logs = gateway.logs()

    spans = jaeger_spans(traces)
    inits = [s for s in spans if s["operationName"] == INIT]
    assert len(inits) == 3
    (cold,) = [s for s in inits if s["tags_"]["faas.coldstart"] is True]
    proactive = [s for s in inits if s["tags_"]["lambda_init.proactive_initialization"] is True]
    assert len(proactive) == 2

    # The cold start: one trace, a root holding the init span and the invocation span, which
    # links to the init span.
    cold_trace = [s for s in spans if s["trace"] == cold["trace"]]
    (invocation,) = [s for s in cold_trace if "faas.invocation_id" in s["tags_"]]
    (root,) = [s for s in cold_trace if s["operationName"].startswith("cold start ")]
    assert invocation["tags_"]["faas.coldstart"] is True
    assert invocation["tags_"]["lambda_init.sandbox_invocation"] == 1
    refs = {(r["refType"], r["spanID"]) for r in cold["references"]}
    assert ("CHILD_OF", root["spanID"]) in refs
    inv_refs = {(r["refType"], r["spanID"]) for r in invocation["references"]}
    assert ("CHILD_OF", root["spanID"]) in inv_refs
    assert cold["spanID"] in {r["spanID"] for r in invocation["references"]}  # the link
    for key, value in {
        "lambda_init.phase": "init",
        "lambda_init.initialization_type": "on-demand",
        "lambda_init.proactive_initialization": False,
        "faas.name": SERVICE,
    }.items():
        assert cold["tags_"][key] == value, key
    assert cold["tags_"]["lambda_init.duration_ms"] >= 700

    # Proactive INITs: their own traces (the init span and its INIT children, no invocation),
    # kept by the init policy at 0 %.
    for init in proactive:
        in_trace = [s for s in spans if s["trace"] == init["trace"]]
        assert not [s for s in in_trace if "faas.invocation_id" in s["tags_"]]
        assert not init["references"]  # a root
        assert all(s["startTime"] >= init["startTime"] for s in in_trace)
        assert init["tags_"]["faas.coldstart"] is False
        assert init["tags_"]["lambda_init.gap_ms"] > 0
    # Everything else (warm invocations, the proactive sandboxes' first invocations) was sampled
    # away: Jaeger holds exactly the three traces with an init span.
    assert len(traces) == 3
    assert not [s for s in spans if s["tags_"].get("lambda_init.sandbox_invocation", 1) > 1]
    assert "\terror\t" not in gateway_logs, gateway_logs

    # Span metrics (from every span, before sampling) reached the sink: counted above; warm
    # invocations were counted too although their traces were sampled away.
    assert count(metrics_sink, **{"span.name": SERVICE, "faas.coldstart": False}) == 4
    durations = [
        p
        for p in datapoints(metrics_sink, "traces.span.metrics.duration")
        if p["attrs"].get("span.name") == INIT and p["attrs"].get("faas.coldstart") is True
    ]
    assert durations and float(durations[-1]["sum"]) >= 700  # ms, the INIT's duration
