"""The same report from a function that never mentions the package (the wrapper route)."""

from footprint import footprint


def handler(event, context):
    return footprint()
