"""The CLI (instrumentation side) reaches the simulator only inside its commands."""

from __future__ import annotations

import sys

import pytest

from otel_lambda_init.cli import main


@pytest.mark.parametrize("argv", [["demo", "--quiet"], ["view", "spans.jsonl"]])
def test_without_the_simulator_extra_the_cli_says_what_to_install(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "otel_lambda_sim.fleet", None)  # import raises ImportError
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "pip install 'otel-lambda-init[simulator]'" in err
    assert "Traceback" not in err


def test_importing_the_cli_does_not_import_the_simulator() -> None:
    import subprocess

    code = (
        "import sys, otel_lambda_init.cli\n"
        "sys.exit(1 if any(m.startswith('otel_lambda_sim') for m in sys.modules) else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 0
