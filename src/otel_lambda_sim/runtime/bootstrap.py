"""The simulator's /var/runtime/bootstrap.py: start awslambdaric as the managed runtime does.

Runs inside the sandbox process (never imported by the simulator). It must not import
otel_lambda_init: the function's own code decides what gets instrumented.
"""

from __future__ import annotations

import os


def main() -> None:
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start" and os.environ.get(
        "_OTEL_LAMBDA_SIM_SNAPSHOT_ADDRESS"
    ):
        from snapshot_fork import install

        install()
    from awslambdaric.__main__ import main as ric_main

    ric_main([os.environ.get("LAMBDA_TASK_ROOT", "."), os.environ["_HANDLER"]])


if __name__ == "__main__":
    main()
