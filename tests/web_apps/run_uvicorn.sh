#!/bin/sh
# What a user puts in run.sh for the Lambda Web Adapter (the adapter forwards to AWS_LWA_PORT).
exec python -m uvicorn --port "$AWS_LWA_PORT" --log-level warning "${APP_MODULE:-fastapi_app}:app"
