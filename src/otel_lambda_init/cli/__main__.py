"""`python -m otel_lambda_init.cli`: the same as the `otel-lambda-init` command."""

import sys

from . import main

sys.exit(main())
