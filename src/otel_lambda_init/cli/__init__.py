"""`otel-lambda-init`: see INIT, proactive initialization and the gap before deploying anything.

Commands: `demo` (the bundled function through a cold start, a proactive init and warm reuse),
`simulate SCENARIO --handler module.fn` (any handler, any scenario), `view FILE.jsonl`,
`layer build --out DIR`. Only the simulator (the separate `otel_lambda_sim` package, imported
inside each command) is used here: the instrumentation runs inside the sandboxes, as user code,
never in this process. Exit codes: 0 done, 1 the run failed, 2 a usage error, 130 interrupted.
"""

from __future__ import annotations

import signal
import sys
from argparse import Namespace
from collections.abc import Sequence
from types import FrameType

from ._errors import RunFailed, SimulatorMissing, UsageError
from ._parser import build_parser

__all__ = ["RunFailed", "SimulatorMissing", "UsageError", "main"]


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _dispatch(args: Namespace) -> int:
    command = args.command
    if command == "layer":
        from ..auto.layer import run

        return run(args)
    if command == "view":
        from ._view import view

        return view(args)
    from ._simulate import simulate

    return simulate(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run one command, and map our own error types to exit codes; anything else is a
    bug and keeps its traceback."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        return _dispatch(args)
    except UsageError as exc:
        print(f"otel-lambda-init: error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"otel-lambda-init: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: every sandbox was stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
