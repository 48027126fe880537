"""`otel-lambda-init view FILE.jsonl`: render a run's spans (and its ground truth) to HTML."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._errors import UsageError
from ._extra import require_simulator

__all__ = ["view"]


def view(args: argparse.Namespace) -> int:
    """Write the HTML view beside the file (or at --out), never over an existing one unasked."""
    require_simulator()
    from otel_lambda_sim.view import load_requests, load_truth, write_html

    target: Path = args.out or args.file.with_suffix(".html")
    if target.exists() and not args.force:
        raise UsageError(
            f"{target} exists; pass --force to overwrite it or --out to write elsewhere"
        )
    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    truth, notes = load_truth(args.file)
    try:
        requests = load_requests(args.file)
        out = write_html(args.file, target, truth=truth, notes=notes, requests=requests)
    except ValueError as exc:  # not OTLP JSON lines: the file given is the problem
        raise UsageError(str(exc)) from exc
    if truth is None:
        print(f"no ground truth beside {args.file} (a .truth.json file): spans only")
    print(f"HTML: {out}")
    return 0
