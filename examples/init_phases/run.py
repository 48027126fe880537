"""Run app.py in a simulated sandbox and print the init span's children as a tree."""

from __future__ import annotations

import time
from pathlib import Path

from otel_lambda_sim import OtlpReceiver, Sandbox

HERE = Path(__file__).parent


def run() -> list:
    with OtlpReceiver() as receiver:
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "OTEL_LAMBDA_INIT_FLUSH": "sync",
        }
        with Sandbox("app.handler", HERE, env=env) as sandbox:
            sandbox.wait_init(30)
            result = sandbox.invoke({}, timeout=30)
            assert result.status == "success", result.payload
            receiver.wait_for(
                lambda s: (
                    any(x.name.startswith("init ") for x in s)
                    and any(x.name == "download weights" for x in s)
                ),
                timeout=20,
            )
            time.sleep(0.3)
            return receiver.spans()


def print_tree(spans: list) -> None:
    children: dict[str | None, list] = {}
    ids = {s.span_id for s in spans}
    for span in sorted(spans, key=lambda s: s.start_ns):
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)

    def show(span, depth: int) -> None:
        print(f"{'  ' * depth}{span.name}  {span.duration_ms:.1f} ms")
        for child in children.get(span.span_id, []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)


if __name__ == "__main__":
    print_tree(run())
