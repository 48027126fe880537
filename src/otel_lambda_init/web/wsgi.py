"""WSGI middleware for web apps behind the Lambda Web Adapter (Flask, Django, ...).

``app.wsgi_app = OtelLambdaInitWSGIMiddleware(app.wsgi_app)`` (Flask): an invocation span per
event the adapter forwards, ended when the server closes the response (under ``sync``
delivery: when the app returns it, before the server sends it); the sandbox's INIT as
a span linked to the first; readiness probes served and not recorded. See docs/web-apps.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from opentelemetry import context as context_api

from ._route import Request, WebRoute, WrappedApp

_PROPAGATION_PREFIX = "HTTP_"
_MAX_PROPAGATION_CHARS = 8192


class OtelLambdaInitWSGIMiddleware(WrappedApp):
    """Wraps a WSGI app; every request is passed to it unchanged, exactly once."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        route = self._route
        if route is None:
            return self.app(environ, start_response)
        lambda_context = environ.get("HTTP_X_AMZN_LAMBDA_CONTEXT")
        if not isinstance(lambda_context, str):
            if route.probing:
                return _Observed(self.app, environ, start_response, route, None)
            route.probe_answered(None, 0)  # says it once
            return self.app(environ, start_response)
        request_context = environ.get("HTTP_X_AMZN_REQUEST_CONTEXT")
        headers: dict[str, str] = {}
        try:
            for key, value in environ.items():
                if (
                    key.startswith(_PROPAGATION_PREFIX)
                    and isinstance(value, str)
                    and len(value) <= _MAX_PROPAGATION_CHARS
                    and not key.startswith("HTTP_X_AMZN_")
                ):
                    headers[key[5:].replace("_", "-").lower()] = value
        except Exception:
            headers = {}
        request = route.start(
            lambda_context,
            request_context if isinstance(request_context, str) else None,
            headers,
            environ.get("REQUEST_METHOD"),
        )
        return _Observed(self.app, environ, start_response, route, request)


class _Observed:
    """The app's response iterable, passed through; when the server closes it the response
    was sent: the invocation ends (or, for a probe, INIT)."""

    def __init__(
        self,
        app: Any,
        environ: dict[str, Any],
        start_response: Any,
        route: WebRoute,
        request: Request | None,
    ) -> None:
        self._route = route
        self._request = request
        self._probe = request is None
        self._status: int | None = None
        self._closed = False

        def start_observed(status: str, headers: Any, exc_info: Any = None) -> Any:
            try:
                self._status = int(status.split(" ", 1)[0])
            except (ValueError, AttributeError):
                self._status = None
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        try:
            self._result = app(environ, start_observed)
        except BaseException as error:
            self._detach()
            self._end(error)
            raise
        self._detach()
        if request is not None and route.flushes_before_response:
            # ``sync``: the body is the server's to send now; the spans leave before it.
            self._end(None)

    def _detach(self) -> None:
        """The app has returned: our span stops being current (the server may serve the next
        request on this thread before it closes this one); it ends at close."""
        invocation = self._request.invocation if self._request is not None else None
        token = getattr(invocation, "token", None)
        if invocation is not None and token is not None:
            context_api.detach(token)
            # What the wrapper detaches when it ends the span: a no-op pair.
            invocation.token = context_api.attach(context_api.get_current())

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._result
        except BaseException as error:
            self._end(error)
            raise

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        except BaseException as error:
            self._end(error)
            raise
        self._end(None)

    def _end(self, error: BaseException | None) -> None:
        if self._closed:
            return
        self._closed = True
        if self._probe:
            if error is None:
                self._route.probe_answered(self._status, time.time_ns())
            return
        self._route.finish(self._request, self._status, error)
