"""Held at import (HELD_INIT_UNTIL) and in the handler (the event's until) until a file exists:
a stall a test ends when it has seen what it waits for, never after a guessed time."""

import os
import time


def wait_for_file(path: str) -> None:
    deadline = time.monotonic() + 60.0  # bounded: a test that never releases still ends
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)


if os.environ.get("HELD_INIT_UNTIL"):
    wait_for_file(os.environ["HELD_INIT_UNTIL"])


def handler(event, context):
    if event.get("until"):
        wait_for_file(event["until"])
    return {"pid": os.getpid()}
