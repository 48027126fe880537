"""``otel-lambda-init-web``: the web route without a code change, in front of the server command.

``exec otel-lambda-init-web uvicorn main:app --port "$AWS_LWA_PORT"`` (or gunicorn, or
``python -m ...``) runs the same command with its ``module:attribute`` app argument replaced
by ``otel_lambda_init.web.launch:app``, which imports the original app and wraps it in the
ASGI or WSGI middleware (an ``async`` ``__call__`` is ASGI). The server is ``exec``'d: one
process, as Lambda started it. See docs/web-apps.md.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from typing import Any

__all__ = ["main", "rewrite", "wrap"]

APP_ENV = "_OTEL_LAMBDA_INIT_WEB_APP"
"""The original app argument, handed from the launcher to the server's import of ``app``."""
TARGET = "otel_lambda_init.web.launch:app"
_APP_ARGUMENT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
"""``module:attribute``; an address (``127.0.0.1:8080``, ``unix:/tmp/s``) never matches."""


def main(argv: list[str] | None = None) -> int:
    """Exec the server command with its app argument pointing at the wrapped app."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: otel-lambda-init-web SERVER-COMMAND... module:app ...", file=sys.stderr)
        return 2
    args, app = rewrite(args)
    if app is None:
        print(
            "otel-lambda-init-web: no module:attribute app argument (or an app factory) in "
            "the command; it runs uninstrumented",
            file=sys.stderr,
        )
    else:
        os.environ[APP_ENV] = app
    os.execvp(args[0], args)
    return 1  # not reached


def rewrite(args: list[str]) -> tuple[list[str], str | None]:
    """The server command with its first ``module:attribute`` argument replaced by ours, and
    that argument; unchanged and None when there is none or the app is a factory."""
    index = next((i for i, a in enumerate(args[1:], 1) if _APP_ARGUMENT.match(a)), None)
    if index is None or "--factory" in args:
        return list(args), None
    return [*args[:index], TARGET, *args[index + 1 :]], args[index]


def wrap(app: Any) -> Any:
    """``app`` in the ASGI middleware when its call is a coroutine function, else WSGI."""
    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004
    if inspect.iscoroutinefunction(call):
        from .asgi import OtelLambdaInitMiddleware

        return OtelLambdaInitMiddleware(app)
    from .wsgi import OtelLambdaInitWSGIMiddleware

    return OtelLambdaInitWSGIMiddleware(app)


def __getattr__(name: str) -> Any:
    """``app``: the original app named by the launcher, imported and wrapped once."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    target = os.environ.get(APP_ENV) or ""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise AttributeError(f"{APP_ENV} is not set: run the server through otel-lambda-init-web")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # where the server looks for the user's module
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    wrapped = wrap(value)
    globals()["app"] = wrapped
    return wrapped
