"""A module that raises while it is imported (a database unreachable at import time)."""


def _connect():
    raise RuntimeError("cannot connect to the database at import time")


_connect()
