"""The README's INIT anatomy example runs through the simulator and shows what it promises."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "init_phases" / "run.py"


def test_init_phases_example_nests_its_phases_under_the_init_span() -> None:
    spec = importlib.util.spec_from_file_location("init_phases_run", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    spans = module.run()
    by_name = {s.name: s for s in spans}
    init = by_name["init demo-fn"]
    parent = {s.span_id: s for s in spans}
    for name in ("read config", "telemetry setup", "load model", "runtime"):
        assert parent[by_name[name].parent_span_id] is init, name
    assert parent[by_name["download weights"].parent_span_id] is by_name["load model"]
    assert by_name["download weights"].duration_ms >= 50
    assert by_name["read config"].end_ns <= by_name["telemetry setup"].start_ns
