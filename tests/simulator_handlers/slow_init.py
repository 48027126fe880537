"""Sleeps at import for SLOW_INIT_S seconds (default 2.5): an INIT longer than a scaled cap."""

import os
import time

time.sleep(float(os.environ.get("SLOW_INIT_S", "2.5")))


def handler(event, context):
    return {"pid": os.getpid(), "tmpdir_files": sorted(os.listdir(os.environ["TMPDIR"]))}
