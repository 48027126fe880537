"""SnapStart: the publish-time INIT is exported once before the snapshot, each restore is the
cold start of its sandbox, and restored copies of one memory image do not share ids."""

from __future__ import annotations

import random
import time
from pathlib import Path

from lambda_harness import assert_cold_start_shape, init_spans, invocation_spans, running_sandbox
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

from otel_lambda_init._sdk import snapstart
from otel_lambda_sim.receiver import OtlpReceiver

HANDLERS = Path(__file__).parents[1] / "anatomy_handlers"


def test_restored_copies_of_one_random_state_get_distinct_ids_after_our_reseed() -> None:
    snapshot = random.getstate()  # what every restored sandbox starts from
    ids = RandomIdGenerator()
    copies = []
    for _ in range(2):
        random.setstate(snapshot)
        copies.append((ids.generate_trace_id(), ids.generate_span_id()))
    assert copies[0] == copies[1]  # the hazard: identical ids in every restored sandbox
    reseeded = []
    for _ in range(2):
        random.setstate(snapshot)
        snapstart.reseed_ids()
        reseeded.append((ids.generate_trace_id(), ids.generate_span_id()))
    assert reseeded[0][0] != reseeded[1][0] and reseeded[0][1] != reseeded[1][1]


def test_renewing_an_exporter_rebuilds_it_with_fresh_connections() -> None:
    built: list[object] = []

    def factory() -> object:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter("http://127.0.0.1:9/v1/traces")
        built.append(exporter)
        return exporter

    from otel_lambda_init import LazySpanExporter

    lazy = LazySpanExporter(factory)  # type: ignore[arg-type]
    assert snapstart.renew_exporters([lazy]) == 0  # nothing built yet: nothing to renew
    assert lazy.build()
    assert snapstart.renew_exporters([lazy]) == 1
    assert not lazy.built  # the snapshot's exporter (and its pool) is gone
    assert lazy.build() and len(built) == 2 and built[0] is not built[1]
    lazy.shutdown()


def test_restore_is_the_cold_start_and_the_publish_init_is_exported_before_the_snapshot() -> None:
    with (
        OtlpReceiver() as receiver,
        running_sandbox(
            "anatomy_app.handler", receiver, code_dir=HANDLERS, initialization_type="snap-start"
        ) as sandbox,
    ):
        assert sandbox.wait_init(30).status == "done"
        # Blocked in restore/next: the snapshot is being taken. The INIT is already out.
        before = receiver.wait_for(lambda s: len(init_spans(s)) == 1, timeout=20)
        sandbox.api.allow_restore()
        result = sandbox.invoke({}, timeout=30)
        assert result.status == "success"
        spans = receiver.wait_for(
            lambda s: len(invocation_spans(s)) == 1 and any(x.name == "restore demo-fn" for x in s),
            timeout=20,
        )
        time.sleep(0.3)
        spans = receiver.spans()
    (publish,) = init_spans(before)
    assert publish.name == "init demo-fn"
    assert publish.attributes["lambda_init.initialization_type"] == "snap-start"
    assert publish.attributes["faas.coldstart"] is False
    assert publish.attributes["lambda_init.end_source"] == "restore-next"
    assert any(s.name == "load model" for s in before)  # with its anatomy

    assert [s.name for s in init_spans(spans)] == ["init demo-fn"]  # reported once
    (restore,) = [s for s in spans if s.name == "restore demo-fn"]
    (invocation,) = invocation_spans(spans)
    assert restore.trace_id == invocation.trace_id != publish.trace_id
    assert_cold_start_shape(spans, restore, invocation)
    assert restore.start_ns >= publish.end_ns
    for span in (restore, invocation):
        assert span.attributes["faas.coldstart"] is True
        assert span.attributes["lambda_init.phase"] == "restore"
    assert not [s for s in spans if s.parent_span_id == restore.span_id and s.name == "runtime"]


def test_two_restored_sandboxes_each_report_a_restore_and_never_share_ids() -> None:
    from lambda_harness import otel_env

    from otel_lambda_sim.snapstart import Snapshot

    with OtlpReceiver() as receiver:
        env = otel_env(receiver, OTEL_LAMBDA_INIT_FLUSH="sync")
        with Snapshot("anatomy_app.handler", HANDLERS, env=env) as snap:
            assert snap.wait_init(30).status == "done"
            receiver.wait_for(lambda s: len(init_spans(s)) == 1, timeout=20)
            restored = [snap.restore(), snap.restore()]
            try:
                for sandbox in restored:
                    for n in range(2):
                        assert sandbox.invoke({"n": n}, timeout=30).status == "success"
            finally:
                for sandbox in restored:
                    sandbox.shutdown()
            spans = receiver.wait_for(
                lambda s: (
                    len(invocation_spans(s)) == 4
                    and len([x for x in s if x.name == "restore demo-fn"]) == 2
                ),
                timeout=20,
            )
            time.sleep(0.3)
            spans = receiver.spans()

    span_ids = [s.span_id for s in spans]
    assert len(span_ids) == len(set(span_ids))  # fails without the reseed after restore
    assert [s.name for s in init_spans(spans)] == ["init demo-fn"]  # publish-time, once
    restores = [s for s in spans if s.name == "restore demo-fn"]
    assert len(restores) == 2
    invocations = invocation_spans(spans)
    firsts = [s for s in invocations if s.attributes["lambda_init.sandbox_invocation"] == 1]
    assert len(firsts) == 2
    for restore in restores:
        (first,) = [s for s in firsts if s.parent_span_id == restore.parent_span_id]
        assert restore.trace_id == first.trace_id
        assert restore.attributes["faas.coldstart"] is True
    trace_ids = {s.trace_id for s in invocations}
    assert len(trace_ids) == 4  # one trace per invocation, none shared across sandboxes
