#!/bin/sh
# The function's handler: the adapter layer's /opt/bootstrap runs it (zip), or the image's CMD.
# exec keeps one process, the one Lambda started: INIT starts with it, and our extension may
# register from it (after-response delivery).
exec python -m uvicorn --port "${AWS_LWA_PORT:-8080}" app:app
