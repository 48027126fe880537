#!/bin/sh
# No code change: the launcher in front of the server command.
exec otel-lambda-init-web python -m uvicorn --port "$AWS_LWA_PORT" --log-level warning plain_fastapi_app:app
