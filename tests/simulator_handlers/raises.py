"""A handler that raises: the runtime posts invocation/error."""


class OrderNotFound(Exception):
    pass


def handler(event, context):
    raise OrderNotFound("order 42 does not exist")
