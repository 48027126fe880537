"""The Lambda layer: built for python3.12 x86_64, laid out as Lambda mounts it under /opt,
and working in a sandbox whose only packages are the layer's ``python/`` directory."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_init.auto.layer import WRAPPER_NAME, build_layer, main
from otel_lambda_sim.receiver import OtlpReceiver

WAYS_IN = Path(__file__).parents[1] / "ways_in_handlers"
# What Lambda's managed runtime provides in /var/runtime, not the layer's job.
RUNTIME_PACKAGES = ("awslambdaric", "runtime_client", "simplejson", "snapshot_restore_py")


@pytest.fixture(scope="module")
def layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layer-out")
    try:
        return build_layer(out, "3.12", "x86_64")
    except Exception as error:  # pip needs the package index
        pytest.skip(f"cannot build the layer here: {error}"[:300])


def extract_like_lambda(zip_path: Path, target: Path) -> Path:
    """Unpack keeping the modes stored in the zip (zipfile.extractall drops them)."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, target))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)
    return target


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """An interpreter with an empty site-packages, plus a /var/runtime look-alike."""
    root = tmp_path_factory.mktemp("bare")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    runtime = root / "var-runtime"
    runtime.mkdir()
    site = Path(__import__("awslambdaric").__file__).parents[1]
    for name in RUNTIME_PACKAGES:
        if (site / name).is_dir():
            shutil.copytree(site / name, runtime / name)
        for module in site.glob(f"{name}.*"):
            if module.suffix in (".py", ".so"):
                shutil.copy(module, runtime)
    yield root / "venv" / "bin" / "python", runtime


def test_layer_zip_has_the_wrapper_with_its_run_bit_and_the_package_under_python(
    layer_zip: Path,
) -> None:
    with zipfile.ZipFile(layer_zip) as archive:
        names = set(archive.namelist())
        wrapper = archive.getinfo(WRAPPER_NAME)
        assert (wrapper.external_attr >> 16) & stat.S_IXUSR
        assert archive.read(WRAPPER_NAME).startswith(b"#!/bin/sh\n")
    assert layer_zip.name == "otel-lambda-init-python3.12-x86_64.zip"
    assert "python/otel_lambda_init/auto/shim.py" in names
    assert "python/otel_lambda_init/auto/_early/sitecustomize.py" in names
    assert any(n.startswith("python/opentelemetry/sdk/") for n in names)
    assert any(n.startswith("python/opentelemetry/exporter/otlp/proto/http/") for n in names)
    assert not any(n.startswith("python/bin/") for n in names)  # build-machine shebangs
    # The simulator and its demo function are developer tools of the same distribution.
    assert not any(
        n.startswith(("python/otel_lambda_sim/", "python/otel_lambda_demo/")) for n in names
    )
    assert not any("simulator" in n for n in names)
    assert not any("__pycache__" in n for n in names)
    # Wheels were chosen for Lambda's platform, not this machine's interpreter.
    binaries = [n for n in names if n.endswith(".so")]
    assert binaries and all("abi3" in n or "cpython-312-x86_64" in n for n in binaries)
    assert not any("aarch64" in n for n in names)


def test_layer_traces_a_function_with_only_the_layer_on_sys_path(
    layer_zip: Path, bare_python: tuple[Path, Path], tmp_path: Path
) -> None:
    # This machine has no python3.12: the bare 3.11 interpreter loads the layer's pure-Python
    # and abi3 code; version-specific extensions fall back to their pure-Python modules.
    python, runtime = bare_python
    opt = extract_like_lambda(layer_zip, tmp_path / "opt")
    assert (opt / WRAPPER_NAME).stat().st_mode & stat.S_IXUSR
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": str(opt / WRAPPER_NAME),
        "PYTHONPATH": f"{WAYS_IN}:{opt / 'python'}:{runtime}",
    }
    with (
        OtlpReceiver() as receiver,
        running_sandbox(
            "layer_probe.handler", receiver, code_dir=WAYS_IN, env=env, python=str(python)
        ) as sandbox,
    ):
        assert sandbox.wait_init(30).status == "done", sandbox.logs()
        result = sandbox.invoke({}, timeout=30)
        spans = receiver.wait_for(
            lambda s: len(init_spans(s)) >= 1 and len(invocation_spans(s)) >= 1, timeout=20
        )
    assert result.status == "success", sandbox.logs()
    payload = result.payload
    for module in ("otel_lambda_init", "opentelemetry.sdk.trace", "requests"):
        assert payload[module].startswith(str(opt / "python")), module
    assert not any("site-packages" in p and "/work/" in p for p in payload["sys_path"])
    assert payload["started_by"] == "sitecustomize"  # the wrapper found its early hook
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    assert [link.span_id for link in invocation.links] == [init.span_id]


def test_layer_main_reports_a_bad_architecture_without_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--arch", "sparc"])
    assert "invalid choice" in capsys.readouterr().err
