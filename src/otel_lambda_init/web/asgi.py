"""ASGI middleware for web apps behind the Lambda Web Adapter (FastAPI, Starlette, ...).

``app = OtelLambdaInitMiddleware(app)`` (or ``app.add_middleware(OtelLambdaInitMiddleware)``):
an invocation span per event the adapter forwards, the sandbox's INIT as a span linked to the
first, readiness probes served and not recorded. See docs/web-apps.md.
"""

from __future__ import annotations

import time
from typing import Any

from ._headers import LAMBDA_CONTEXT, REQUEST_CONTEXT
from ._route import WrappedApp

_LAMBDA_CONTEXT = LAMBDA_CONTEXT.encode()
_REQUEST_CONTEXT = REQUEST_CONTEXT.encode()
_MAX_PROPAGATION_BYTES = 8192


class OtelLambdaInitMiddleware(WrappedApp):
    """Wraps an ASGI app; every request is passed to it unchanged, exactly once."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        route = self._route
        kind = scope.get("type") if route is not None else None
        if kind == "lifespan":
            return await self._lifespan(scope, receive, send)
        if kind != "http":
            return await self.app(scope, receive, send)
        lambda_context = request_context = None
        headers: dict[str, str] = {}
        try:
            for name, value in scope.get("headers") or ():
                if name == _LAMBDA_CONTEXT:
                    lambda_context = value.decode("latin-1")
                elif name == _REQUEST_CONTEXT:
                    request_context = value.decode("latin-1")
                elif len(value) <= _MAX_PROPAGATION_BYTES:
                    headers[name.decode("latin-1")] = value.decode("latin-1")
        except Exception:
            lambda_context = None
        if lambda_context is None:
            if route.probing:  # type: ignore[union-attr]
                return await self._probe(scope, receive, send)
            route.probe_answered(None, 0)  # type: ignore[union-attr]  # says it once
            return await self.app(scope, receive, send)
        request = route.start(  # type: ignore[union-attr]
            lambda_context, request_context, headers, scope.get("method")
        )
        status: list[int | None] = [None]
        ended = [False]
        before_response = route.flushes_before_response  # type: ignore[union-attr]

        async def send_observed(message: Any) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                status[0] = message.get("status")
            elif (
                before_response
                and kind == "http.response.body"
                and not message.get("more_body", False)
                and not ended[0]
            ):
                ended[0] = True
                route.finish(request, status[0], None)  # type: ignore[union-attr]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except BaseException as error:
            if not ended[0]:
                route.finish(request, status[0], error)  # type: ignore[union-attr]
            raise
        if not ended[0]:
            route.finish(request, status[0], None)  # type: ignore[union-attr]

    async def _probe(self, scope: Any, receive: Any, send: Any) -> None:
        """A readiness probe: served as is; a healthy answer, once sent, ends INIT."""
        route = self._route
        status: list[int | None] = [None]

        async def send_observed(message: Any) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                status[0] = message.get("status")
            await send(message)
            if kind == "http.response.body" and not message.get("more_body", False):
                route.probe_answered(status[0], time.time_ns())  # type: ignore[union-attr]

        await self.app(scope, receive, send_observed)

    async def _lifespan(self, scope: Any, receive: Any, send: Any) -> None:
        """The server's lifespan: once the app finished its shutdown, export what is left."""
        route = self._route

        async def send_observed(message: Any) -> None:
            if message.get("type") in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                route.at_shutdown()  # type: ignore[union-attr]
            await send(message)

        await self.app(scope, receive, send_observed)
