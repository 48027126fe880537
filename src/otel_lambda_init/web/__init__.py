"""Web apps behind the AWS Lambda Web Adapter: ASGI and WSGI middleware.

The adapter (an external extension) polls the Runtime API itself and forwards each event to
the app over HTTP, so nothing of ours sees the runtime client: the middleware finds INIT's end
in the adapter's readiness probe and each invocation in its ``x-amzn-lambda-context`` header.
See docs/web-apps.md.
"""

from __future__ import annotations

from .asgi import OtelLambdaInitMiddleware
from .wsgi import OtelLambdaInitWSGIMiddleware

__all__ = ["OtelLambdaInitMiddleware", "OtelLambdaInitWSGIMiddleware"]
