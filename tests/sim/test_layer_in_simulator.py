"""The zip a user will deploy, run in the simulator: `simulate --layer ZIP` (or the scenario's
`layers`) mounts it as Lambda mounts /opt, and AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-lambda-init
runs the layer's wrapper and the layer's copy of the package, with the same spans as the
installed wrapper gives."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pytest

from otel_lambda_init.auto.layer import build_layer
from otel_lambda_init.cli import main
from otel_lambda_sim.view import load_jsonl

pytestmark = pytest.mark.timeout(300)

APP = """
import sys
import time

time.sleep(0.2)


def lambda_handler(event, context):
    return {"package": sys.modules["otel_lambda_init"].__file__}
"""


@pytest.fixture(scope="module")
def layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer for this interpreter (the sandboxes run it) and this machine's architecture."""
    out = tmp_path_factory.mktemp("layer-out")
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    try:
        return build_layer(out, f"3.{sys.version_info.minor}", arch)
    except Exception as error:  # pip needs the package index
        pytest.skip(f"cannot build the layer here: {error}"[:300])


def _run(tmp: Path, name: str, *extra: str) -> tuple[int, Path]:
    code_dir = tmp / "code"
    code_dir.mkdir(exist_ok=True)
    (code_dir / "app.py").write_text(APP)
    scenario = tmp / f"{name}.json"
    scenario.write_text(
        json.dumps({"name": name, "handler": "app.lambda_handler", "arrivals": [0.0, 6.0]})
    )
    out = tmp / "out"
    argv = ["simulate", str(scenario), "--code-dir", str(code_dir), "--out", str(out), "--quiet"]
    return main([*argv, *extra]), out / f"{name}.jsonl"


def _shape(jsonl: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """Name, kind and attribute names of every span, sorted: what a route produces. Slow
    imports are left out: which imports cross the threshold depends on the clock (the layer
    ships no bytecode, so its modules compile on every cold start, as under Lambda's /opt)."""
    spans = [s for s in load_jsonl(jsonl) if not s.name.startswith("import ")]
    return sorted((s.name, s.kind, tuple(sorted(s.attributes))) for s in spans)


def test_a_built_layer_zip_runs_in_the_simulator_with_the_routes_spans(
    layer_zip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, layered = _run(
        tmp_path,
        "layered",
        "--layer",
        str(layer_zip),
        "--env",
        "AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-lambda-init",
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    code, installed = _run(
        tmp_path, "installed", "--env", "AWS_LAMBDA_EXEC_WRAPPER=otel-lambda-init-wrapper"
    )
    assert code == 0, capsys.readouterr().err
    assert _shape(layered) == _shape(installed)
    names = [s.name for s in load_jsonl(layered)]
    assert "init demo-fn" in names and names.count("demo-fn") == 2
    truth = json.loads((layered.with_name("layered.truth.json")).read_text())["truth"]
    assert truth["waited_for"] == 1


def test_the_package_that_ran_is_the_layers_copy(layer_zip: Path, tmp_path: Path) -> None:
    from otel_lambda_sim.fleet import Fleet
    from otel_lambda_sim.scenarios import Scenario

    (tmp_path / "app.py").write_text(APP)
    scenario = Scenario(
        handler="app.lambda_handler",
        code_dir=str(tmp_path),
        layers=[str(layer_zip)],
        arrivals=[0.0],
        env={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-lambda-init"},
        drain_s=0.0,
    )
    (request,) = Fleet(scenario).run().requests
    assert request.status == "success", request.payload
    package = Path(request.payload["package"])
    assert package.parts[-3:] == ("python", "otel_lambda_init", "__init__.py")
    assert package.parents[2].name.startswith("otel-lambda-layer-")
