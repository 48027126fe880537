#!/bin/sh
# No code change: the launcher in front of the server command.
exec otel-lambda-init-web gunicorn -b "127.0.0.1:$AWS_LWA_PORT" -w 1 --log-level warning plain_flask_app:app
