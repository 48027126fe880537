"""A light handler honouring the scenario's timings: SIM_INIT_MS at import, SIM_HANDLER_MS per
request; it answers with its pid and the event it was given, to compare with the one sent."""

import os
import time

time.sleep(float(os.environ.get("SIM_INIT_MS", "0")) / 1000.0)
_WORK_S = float(os.environ.get("SIM_HANDLER_MS", "0")) / 1000.0


def handler(event, context):
    time.sleep(_WORK_S)
    return {"pid": os.getpid(), "event": event}
