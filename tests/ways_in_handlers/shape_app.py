"""A plain function whose INIT takes SHAPE_INIT_S seconds (default 0.1): the wrapper and
processor routes of the span-shape matrix trace it without it mentioning any package."""

import os
import time

time.sleep(float(os.environ.get("SHAPE_INIT_S", "0.1")))


def handler(event, context):
    time.sleep(0.02)
    return {"ok": True}
