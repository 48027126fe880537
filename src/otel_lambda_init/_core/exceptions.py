"""What an exception event may say: its type, a cut message and the innermost frames.

A user's exception can quote anything it was handed (a validation error quoting the event,
a password included), at any length. We record the type, the message cut at
``MAX_MESSAGE`` characters, and the stack as frames only (file, line, function, source line:
never the message again), cut to its innermost ``MAX_STACKTRACE`` characters.
"""

from __future__ import annotations

from .vocabulary import EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE, EXCEPTION_TYPE

MAX_TYPE = 256
MAX_MESSAGE = 256
MAX_STACKTRACE = 4096
"""About 20 frames: the innermost ones, where the error was raised, are kept."""
_CUT = "..."


def cut_head(text: str, limit: int) -> str:
    """The first ``limit`` characters (a marker ends a cut string)."""
    return text if len(text) <= limit else text[: limit - len(_CUT)] + _CUT


def cut_tail(text: str, limit: int) -> str:
    """The last ``limit`` characters (a marker starts a cut string)."""
    return text if len(text) <= limit else _CUT + text[len(text) - limit + len(_CUT) :]


def message_of(error: BaseException) -> str:
    """``str(error)``, or a placeholder when the user's ``__str__`` raises or lies."""
    try:
        text = str(error)
    except Exception:
        return f"<{type(error).__name__} whose str() raised>"
    return text if isinstance(text, str) else ""


def exception_attributes(type_name: str, message: str | None, frames: str) -> dict[str, str]:
    """The ``exception`` event's attributes, every one bounded; no message when ``None``
    (``OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES=false``)."""
    attributes = {
        EXCEPTION_TYPE: cut_head(type_name, MAX_TYPE),
        EXCEPTION_STACKTRACE: cut_tail(frames, MAX_STACKTRACE),
    }
    if message is not None:
        attributes[EXCEPTION_MESSAGE] = cut_head(message, MAX_MESSAGE)
    return attributes


def status_description(type_name: str, message: str | None) -> str:
    """The span status line: ``Type: message`` (the type alone without a message), cut like
    a message."""
    return cut_head(type_name if message is None else f"{type_name}: {message}", MAX_MESSAGE)
