#!/bin/sh
# What a user puts in run.sh for a Flask app behind the Lambda Web Adapter.
exec python -m gunicorn -b "127.0.0.1:$AWS_LWA_PORT" -w 1 --log-level warning flask_app:app
