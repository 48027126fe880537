"""The built wheel, not the checkout, runs the demo: everything it needs ships inside it.

Offline: the wheel is built with `python -m build --no-isolation` from this environment's
setuptools, and installed with `--no-deps` into a fresh virtual environment whose only view
of the dependencies (the OpenTelemetry SDK, awslambdaric...) is this environment's
site-packages as a plain path, so the editable install of the checkout is not visible there.
`.ci/wheel-check` does the same with a real `pip install` from the index.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, **kw)  # type: ignore[call-overload]


def test_wheel_installs_in_a_fresh_venv_and_runs_the_demo(tmp_path: Path) -> None:
    built = _run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--skip-dependency-check",
            "--outdir",
            str(tmp_path),
        ],
        cwd=ROOT,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("otel_lambda_init-*.whl")
    venv = tmp_path / "fresh"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    py = venv / "bin" / "python"
    installed = _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)])
    assert installed.returncode == 0, installed.stderr
    fresh_site = Path(
        _run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (fresh_site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _run(
        [str(py), "-c", "import otel_lambda_init, otel_lambda_sim, otel_lambda_demo as d; "
         "print(otel_lambda_init.__file__); print(otel_lambda_sim.__file__); print(d.__file__)"],
        cwd=tmp_path,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(venv)) for line in where.stdout.split()), where.stdout
    demo = _run(
        [str(venv / "bin" / "otel-lambda-init"), "demo", "--quiet", "--out", str(tmp_path / "o")],
        cwd=tmp_path,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "proactive initializations" in demo.stdout
    assert (tmp_path / "o" / "demo.html").exists()
