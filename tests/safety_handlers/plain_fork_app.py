"""The same pool in a function that never mentions the package (the wrapper route)."""

from fork_pool import work


def handler(event, context):
    return work(event)
