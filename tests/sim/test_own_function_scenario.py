"""The shipped own-function scenario gives a cold start, a proactive initialization and warm
reuse for a fast handler, judged the same by the spans and by the simulator's ground truth,
without a lowered threshold (so a slow, loaded machine does not change the verdicts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otel_lambda_init.cli import main
from otel_lambda_sim.scenarios import load_scenario
from otel_lambda_sim.summary import summarize
from otel_lambda_sim.view import load_jsonl

SCENARIO = Path(__file__).parents[2] / "examples" / "scenarios" / "my-function.yaml"
pytestmark = pytest.mark.timeout(120)


def test_my_function_yields_cold_proactive_and_warm_matching_the_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS" not in load_scenario(SCENARIO).env
    argv = ["simulate", str(SCENARIO), "--out", str(tmp_path), "--quiet"]
    code = main([*argv, "--env", "AWS_LAMBDA_EXEC_WRAPPER=otel-lambda-init-wrapper"])
    assert code == 0, capsys.readouterr().err
    spans = summarize(load_jsonl(tmp_path / "my-function.jsonl"))
    truth = json.loads((tmp_path / "my-function.truth.json").read_text())["truth"]
    assert truth["waited_for"] >= 1 and truth["not_waited_for"] >= 1
    assert truth["requests"] > truth["initializations"]  # warm reuse
    assert spans.cold_starts == truth["waited_for"]
    assert spans.proactive == truth["not_waited_for"]
    assert spans.initializations == truth["initializations"]
    assert spans.invocations == truth["requests"]
