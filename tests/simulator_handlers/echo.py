"""Returns the event and some facts about the sandbox it ran in."""

import os


def handler(event, context):
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "pid": os.getpid(),
        "tmpdir": os.environ.get("TMPDIR"),
        "log_stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
        "env": {
            k: v
            for k, v in os.environ.items()
            if k.startswith(
                ("AWS_", "LAMBDA_", "_", "TZ", "TMPDIR", "PYTHONPATH", "OTEL_", "PATH", "LANG")
            )
        },
    }
