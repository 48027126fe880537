"""The command line's grammar: one subparser per command, defaults shown in every --help."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["build_parser"]


def _common(sp: argparse.ArgumentParser) -> None:
    """Options of every command that runs sandboxes (demo, simulate)."""
    sp.add_argument(
        "--endpoint",
        help="also send the spans to this OTLP/HTTP backend: its base URL (the exporters "
        "append /v1/traces; a full .../v1/traces URL is accepted and said so). Default: "
        "OTEL_EXPORTER_OTLP_ENDPOINT if set. The local summary and HTML view are written "
        "either way; the backend is probed before the run",
    )
    sp.add_argument("--out", type=Path, help="output directory (default ./otel-lambda-init-out)")
    sp.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable in every sandbox (repeatable). Only OTEL_* variables pass "
        "from your shell, as in Lambda the function's environment is its configuration",
    )
    sp.add_argument(
        "--threshold-ms",
        type=float,
        default=None,
        help="OTEL_LAMBDA_INIT_PROACTIVE_THRESHOLD_MS in the sandboxes (default: the "
        "package's, 10000, Lambda's field heuristic; the idle-gap rule finds proactive "
        "initializations of a short run without lowering it)",
    )
    sp.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="ZIP_OR_DIR",
        help="run with this layer (repeatable, after the scenario's layers): a zip from "
        "`otel-lambda-init layer build` or a directory, mounted as Lambda mounts /opt; "
        "pair it with --env AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-lambda-init",
    )
    sp.add_argument(
        "--keep-going",
        action="store_true",
        help="replay the whole scenario after an INIT failure (default: stop at the first)",
    )
    sp.add_argument("--quiet", action="store_true", help="no progress lines")


def _layer(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..auto.layer import add_arguments

    layer = sub.add_parser(
        "layer",
        help="build the Lambda layer zip (layer build --out DIR)",
        description="otel-lambda-init layer build --out DIR [--python 3.12] [--arch x86_64]: "
        "build the Lambda layer zip; `otel-lambda-init layer build --help` lists the options "
        "and their defaults.",
    )
    actions = layer.add_subparsers(dest="layer_command", required=True)
    build = actions.add_parser(
        "build",
        help="build the layer zip: python/ and the exec wrapper at /opt/otel-lambda-init",
        description="Build the Lambda layer zip (python/ and /opt/otel-lambda-init).",
    )
    add_arguments(build)


def build_parser() -> argparse.ArgumentParser:
    """The whole parser; each command's handler is chosen in main by its name."""
    from .._core.vocabulary import VERSION

    p = argparse.ArgumentParser(
        prog="otel-lambda-init",
        description="Run Lambda handlers locally (real awslambdaric processes) and see their "
        "INIT, proactive initializations and the gap as OpenTelemetry traces.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the bundled demo function through a short scenario")
    _common(demo)
    sim = sub.add_parser(
        "simulate",
        help="run a scenario (YAML/JSON file, see examples/scenarios/, or 'demo')",
    )
    _common(sim)
    sim.add_argument("scenario", help="scenario file (.yaml/.yml/.json) or a built-in name: demo")
    sim.add_argument("--handler", help="module.function (overrides the scenario's)")
    sim.add_argument("--code-dir", type=Path, help="the function's code directory")
    _layer(sub)
    view = sub.add_parser("view", help="render an OTLP JSON lines file to HTML")
    view.add_argument("file", type=Path)
    view.add_argument("--out", type=Path, help="HTML file (default: FILE with .html)")
    view.add_argument("--force", action="store_true", help="overwrite an existing HTML file")
    return p
