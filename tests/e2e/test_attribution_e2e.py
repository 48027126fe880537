"""Our cost is ours, the user's is the user's: on the wrapper route the user's module is
loaded from inside our handler shim's import, yet its import span never descends from one of
our spans and ``lambda_init.overhead_ms`` does not grow with the user's import time."""

from __future__ import annotations

import time

from lambda_harness import init_spans, running_sandbox, span_by_id
from test_ways_in_e2e import WAYS_IN, installed_wrapper

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan


def _wrapper_init(user_init_s: float) -> list[ReceivedSpan]:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(), "SHAPE_INIT_S": str(user_init_s)}
    with (
        OtlpReceiver() as receiver,
        running_sandbox("shape_app.handler", receiver, code_dir=WAYS_IN, env=env) as sandbox,
    ):
        assert sandbox.invoke({}, timeout=30).status == "success"
        receiver.wait_for(lambda s: len(init_spans(s)) == 1, timeout=20)
        time.sleep(0.3)
        return receiver.spans()


def _ancestors(spans: list[ReceivedSpan], span: ReceivedSpan) -> list[ReceivedSpan]:
    out = []
    parent = span_by_id(spans, span.parent_span_id)
    while parent is not None:
        out.append(parent)
        parent = span_by_id(spans, parent.parent_span_id)
    return out


def test_user_import_is_the_functions_and_our_overhead_does_not_include_it() -> None:
    overhead = {}
    for user_init_s in (0.05, 0.8):
        spans = _wrapper_init(user_init_s)
        (init,) = init_spans(spans)
        (user_import,) = [s for s in spans if s.name == "import shape_app"]
        assert user_import.attributes["lambda_init.import.origin"] == "function"
        ancestors = _ancestors(spans, user_import)
        assert ancestors[0] is init  # directly under the init span
        ours = [a.name for a in ancestors if a.attributes.get("lambda_init.child")]
        assert ours == [], ours
        # Our shim's own import ends before the user's module starts loading.
        (shim,) = [s for s in spans if s.name == "import otel_lambda_init.auto.shim"]
        assert shim.end_ns <= user_import.start_ns
        overhead[user_init_s] = init.attributes["lambda_init.overhead_ms"]
        if user_init_s == 0.8:
            assert user_import.duration_ms >= 800
    # 750 ms more of the user's import; our overhead moves by scheduling noise only.
    assert overhead[0.8] < 400, overhead
    assert abs(overhead[0.8] - overhead[0.05]) < 300, overhead
