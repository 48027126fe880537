"""Takes 30 ms to import."""

import time

time.sleep(0.03)
