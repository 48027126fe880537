"""The CLI's contract with a newcomer: usage errors exit 2 and say what to fix, a simulator bug
is not dressed up as one, numbers are compared as numbers, `layer build` is a real command."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from otel_lambda_init.cli import main
from otel_lambda_init.cli._environment import build_env, threshold_in_effect
from otel_lambda_init.cli._parser import build_parser


def test_layer_build_is_a_subcommand_whose_help_shows_every_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["layer", "build", "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    assert "default: 3.12" in out and "default: x86_64" in out and "--package" in out
    args = build_parser().parse_args(["layer", "build", "--out", "dist"])
    assert (args.command, args.layer_command, args.python, args.arch) == (
        "layer",
        "build",
        "3.12",
        "x86_64",
    )


def test_layer_without_an_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["layer"])
    assert exc.value.code == 2 and "build" in capsys.readouterr().err


def test_a_bug_in_the_simulator_is_not_reported_as_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import otel_lambda_sim.fleet

    def broken(self: object) -> None:
        raise ValueError("an internal mistake")

    monkeypatch.setattr(otel_lambda_sim.fleet.Fleet, "run", broken)
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 1\n")
    scenario = tmp_path / "s.json"
    scenario.write_text('{"handler": "app.handler", "arrivals": [0]}')
    argv = ["simulate", str(scenario), "--code-dir", str(tmp_path), "--out", str(tmp_path / "o")]
    with pytest.raises(ValueError, match="an internal mistake"):
        main([*argv, "--quiet"])


def test_a_missing_code_directory_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text('{"handler": "app.handler", "arrivals": [0]}')
    code = main(["simulate", str(scenario), "--code-dir", str(tmp_path / "nowhere"), "--quiet"])
    assert code == 2
    assert f"code directory {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "expected_ms"),
    [("10000", 10_000.0), ("10000.0", 10_000.0), ("1e4", 10_000.0), ("1500", 1500.0)],
)
def test_the_threshold_in_effect_is_a_number_whatever_its_spelling(
    value: str, expected_ms: float
) -> None:
    env = build_env({"OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS": value}, [], None, "", None)
    ms, line = threshold_in_effect(env.merged, env.sources)
    assert ms == expected_ms
    assert f"OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS={value} ms (from the scenario)" in line


def test_an_endpoint_says_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    env = build_env({}, [], None, "", None)
    assert (env.backend_url, env.backend_origin) == (
        "http://127.0.0.1:9",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    )
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env.env  # the sandboxes export locally
    given = build_env({}, [], None, "", "http://127.0.0.1:8")
    assert given.backend_origin == "--endpoint"


def test_parser_knows_every_command() -> None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"demo", "simulate", "layer", "view"}


def test_a_dead_endpoint_from_the_environment_says_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # nothing listens
    scenario = tmp_path / "s.json"
    scenario.write_text('{"handler": "app.handler", "arrivals": [0]}')
    code = main(["simulate", str(scenario), "--code-dir", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "(the endpoint came from OTEL_EXPORTER_OTLP_ENDPOINT); nothing was run" in err
