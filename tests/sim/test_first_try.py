"""A user's first try with their own function: no dead ends (issue 26).

A wrong handler name stops at once with its cause and the module's functions; a bad scenario
value names its key; the event reaches the handler as written; code_dir is read relative to
the scenario file; a second run keeps the first run's logs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from otel_lambda_init.cli import main
from otel_lambda_sim.fleet import Fleet
from otel_lambda_sim.scenarios import Scenario, load_scenario

HANDLERS = Path(__file__).parents[1] / "simulator_handlers"
pytestmark = pytest.mark.timeout(120)

APP = """
import time
time.sleep(0.3)


def lambda_handler(event, context):
    return {"statusCode": 200}


def _helper():
    pass
"""


def test_a_wrong_handler_name_stops_at_the_first_init_failure_with_one_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.py").write_text(APP)
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("handler: app.handler\ncode_dir: .\narrivals: [0.0, 0.0, 2.0, 30.0]\n")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "otel_lambda_init.cli", "simulate", str(scenario), "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    (line,) = errors
    assert "INIT failed in sbx00" in line and "handler" in line
    assert "app defines lambda_handler (did you mean app.lambda_handler?)" in line
    assert "_helper" not in line
    log = line.rsplit("; log: ", 1)[1]
    assert Path(log).is_file()
    assert "LAMBDA_WARNING" not in proc.stderr  # AWS's paragraph stays in the log
    assert "cold starts" not in proc.stdout  # no summary that reads like our failure
    # The scenario's last request is at t=30: the run stopped long before it.
    assert elapsed < 25, elapsed


def test_the_first_init_failure_is_reported_within_three_seconds(tmp_path: Path) -> None:
    """Measured inside the process: from the sandbox's INIT failure to main's return."""
    (tmp_path / "app.py").write_text(APP)
    scenario = Scenario(name="mine", handler="app.handler", code_dir=str(tmp_path))
    scenario.arrivals = [0.0, 0.0, 20.0]
    path = tmp_path / "mine.json"
    path.write_text(scenario.to_json())
    failed_at: list[float] = []
    original = Fleet._on_ready

    def spy(self: Fleet, slot: object, data: object, pending: object) -> None:
        if getattr(data, "status", "") in ("error", "exited") and not failed_at:
            failed_at.append(time.monotonic())
        original(self, slot, data, pending)  # type: ignore[arg-type]

    mp = pytest.MonkeyPatch()
    mp.setattr(Fleet, "_on_ready", spy)
    try:
        code = main(["simulate", str(path), "--out", str(tmp_path / "out"), "--quiet"])
        returned = time.monotonic()
    finally:
        mp.undo()
    assert code == 1 and failed_at
    assert returned - failed_at[0] < 3.0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("arrivals: 0.0, 0.3", "arrivals: expected a list such as [0.0, 0.3], got the text"),
        ("arrivals: [0.0, soon]", "arrivals[1]: expected a number, got the text 'soon'"),
        ("concurrency: 0", "concurrency: expected a number >= 1, got 0"),
        ("prewarm: 1.5", "prewarm: expected a whole number >= 0, got 1.5"),
        ("eager_assignment: maybe", "eager_assignment: expected true or false"),
        ("initialization_type: warm", "initialization_type: expected one of on-demand"),
        ("env: [A=1]", "env: expected a mapping of NAME: value"),
        ("handler_ms: -5", "handler_ms: expected a number >= 0, got -5"),
    ],
)
def test_a_bad_scenario_value_names_its_key(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"handler: app.handler\n{text}\n")
    with pytest.raises(ValueError) as exc:
        load_scenario(path)
    assert says in str(exc.value)


def test_the_cli_reports_a_bad_value_as_a_usage_error_naming_the_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("handler: app.handler\narrivals: 0.0, 0.3\n")
    assert main(["simulate", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"scenario {path}: arrivals: expected a list" in err
    assert "could not convert" not in err


def test_the_event_reaches_the_handler_exactly_as_the_scenario_wrote_it() -> None:
    events = [
        {"version": "2.0", "rawPath": "/orders/1", "requestContext": {"http": {"method": "GET"}}},
        {"order": "2", "nested": {"list": [1, 2.5, None, True]}},
        [1, 2, 3],
        "plain text",
    ]
    scenario = Scenario(
        handler="timed.handler",
        code_dir=str(HANDLERS),
        handler_ms=10,
        arrivals=[0.0, 0.5, 1.0, 1.5],
        events=events,
        drain_s=0.0,
    )
    result = Fleet(scenario).run()
    assert [r.status for r in result.requests] == ["success"] * 4
    assert [r.payload["event"] for r in result.requests] == events


def test_code_dir_is_relative_to_the_scenario_file_wherever_you_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "scenarios").mkdir(parents=True)
    (project / "function").mkdir()
    (project / "scenarios" / "s.yaml").write_text(
        "handler: app.lambda_handler\ncode_dir: ../function\narrivals: [0]\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scenario = load_scenario(Path("..") / "project" / "scenarios" / "s.yaml")
    assert Path(scenario.code_dir or "") == (project / "function").resolve()


def test_every_shipped_example_runs_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(__file__).parents[2]
    monkeypatch.chdir(tmp_path)
    for path in sorted((root / "examples" / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        assert scenario.code_dir and Path(scenario.code_dir).is_dir(), path


def test_a_second_run_keeps_the_first_runs_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "one.json"
    scenario.write_text(json.dumps({"handler": "echo.handler", "arrivals": [0.0], "drain_s": 0}))
    argv = ["simulate", str(scenario), "--code-dir", str(HANDLERS), "--out", str(tmp_path)]
    for _ in range(2):
        main([*argv, "--quiet"])
    runs = sorted(p.parent for p in (tmp_path / "logs").glob("*/sbx001.log"))
    assert len(runs) == 2 and runs[0] != runs[1]
