"""A light handler honouring the scenario's timings: SIM_INIT_MS at import, SIM_HANDLER_MS per
request; it answers with its pid and the event it was given, to compare with the one sent."""

import os
import time

time.sleep(float(os.environ.get("SIM_INIT_MS", "0")) / 1000.0)
_WORK_S = float(os.environ.get("SIM_HANDLER_MS", "0")) / 1000.0


def handler(event, context):
    started = os.environ.get("SIM_STARTED_DIR")
    if started:  # a test waits for every handler to be running, not for a guessed time
        open(os.path.join(started, str(os.getpid())), "w").close()
    time.sleep(_WORK_S)
    return {"pid": os.getpid(), "event": event}
