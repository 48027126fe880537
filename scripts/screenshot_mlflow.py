"""A cold start in MLflow's trace timeline, screenshotted with headless Chromium.

Starts ``mlflow server`` (SQLite store, a free port on 127.0.0.1), runs one simulated sandbox
(tests/handlers/manual_app.py: decorator route, real awslambdaric) exporting to MLflow's OTLP
endpoint, opens the trace in MLflow's UI with Playwright driving Debian's Chromium
(``executable_path``; no browser download) and saves a PNG of the timeline.

Usage: python scripts/screenshot_mlflow.py --mlflow /path/to/mlflow [--out docs/x.png]
Needs ``pip install playwright`` (the browser is /usr/bin/chromium: ``apt-get install -y
chromium``) and an ``mlflow`` executable (MLflow pins many packages: give it its own venv).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from otel_lambda_sim.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = ROOT / "tests" / "handlers"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(base: str, method: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def _wait(check, timeout: float, what: str):  # noqa: ANN001, ANN202 - small local helper
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(what)


def _close_side_panels(page) -> None:  # noqa: ANN001 - playwright's Page, imported late
    """MLflow 3.17 opens its assistant beside a trace: close it to give the timeline room."""
    for name in ("Close", "Close assistant"):
        buttons = page.get_by_role("button", name=name)
        for i in range(buttons.count()):
            try:
                buttons.nth(i).click(timeout=2_000)
            except Exception:  # noqa: BLE001 - a hidden button: nothing to close
                continue
    page.wait_for_timeout(1_000)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mlflow", required=True, help="the mlflow executable")
    p.add_argument("--out", type=Path, default=Path("mlflow-cold-start.png"))
    p.add_argument("--chromium", default="/usr/bin/chromium")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="otel-lambda-mlflow-"))
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [args.mlflow, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        + ["--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}"]
        + ["--default-artifact-root", str(work / "artifacts")],
        cwd=work,
        env=dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true"),
        stdout=(work / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(lambda: urllib.request.urlopen(base + "/health", timeout=2), 180, "mlflow /health")
        name = f"otel-lambda-init-{uuid.uuid4().hex[:6]}"
        exp = _call(base, "POST", "/api/2.0/mlflow/experiments/create", {"name": name})
        experiment_id = str(exp["experiment_id"])
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": base,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_HEADERS": f"x-mlflow-experiment-id={experiment_id}",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        }
        with Sandbox("manual_app.handler", HANDLERS, env=env) as sandbox:
            sandbox.start()
            result = sandbox.invoke({"n": 1}, timeout=60)  # pending while INIT runs: cold
            assert result.status == "success", sandbox.logs()
            location = {
                "type": "MLFLOW_EXPERIMENT",
                "mlflow_experiment": {"experiment_id": experiment_id},
            }
            traces = _wait(
                lambda: _call(
                    base, "POST", "/api/3.0/mlflow/traces/search", {"locations": [location]}
                ).get("traces"),
                60,
                "the trace in MLflow",
            )
        trace_id = traces[0]["trace_id"]
        time.sleep(2)  # the root ends last: let MLflow merge the late spans
        url = f"{base}/#/experiments/{experiment_id}/traces?selectedEvaluationId={trace_id}"
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 900})
            page.goto(url, timeout=60_000)
            page.get_by_text("cold start demo-fn").first.wait_for(timeout=90_000)
            page.wait_for_timeout(2_000)
            _close_side_panels(page)
            for label in ("Full screen", "Show execution timeline"):
                page.get_by_role("button", name=label).first.click()
                page.wait_for_timeout(1_500)
            # Fold the init span's children (its second row) so the invocation shows too.
            page.evaluate(
                """() => { const rows = [...document.querySelectorAll('button')]
                  .filter(b => !b.innerText && !b.getAttribute('aria-label')
                            && b.getBoundingClientRect().x < 20);
                  if (rows.length > 1) rows[1].click(); }"""
            )
            page.wait_for_timeout(1_500)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
        print(f"{args.out} ({args.out.stat().st_size // 1024} KB), trace {trace_id}, {url}")
        return 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
