"""A light handler honouring the scenario's timings: SIM_INIT_MS at import, work_ms per event."""

import os
import time

time.sleep(float(os.environ.get("SIM_INIT_MS", "0")) / 1000.0)


def handler(event, context):
    time.sleep(float(event.get("work_ms", 0)) / 1000.0)
    return {"pid": os.getpid(), "index": event.get("request_index")}
