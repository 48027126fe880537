"""Takes 50 ms to import, plus slow_inner (30 ms) imported inside it."""

import time

time.sleep(0.05)

import slow_inner  # noqa: E402, F401
